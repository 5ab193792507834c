// hookgate console: the little that needs a script. Every page works without it.
document.addEventListener("click", function (e) {
  var b = e.target.closest("button.copy");
  if (!b) return;
  var text = b.getAttribute("data-copy");
  if (navigator.clipboard) {
    navigator.clipboard.writeText(text).then(function () { b.textContent = "copied"; });
  }
});
// Buttons marked danger ask first.
document.addEventListener("submit", function (e) {
  var b = e.submitter;
  if (b && b.classList.contains("danger") && !window.confirm(b.textContent.trim() + "?")) e.preventDefault();
});
