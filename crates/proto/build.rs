//! Generates the canonical event types from `proto/` (inside this crate, so
//! it packages on its own; the repository's `proto/` links here) with protox
//! (pure Rust, no system `protoc`), prost (structs) and pbjson (proto3 JSON
//! mapping).

use std::{env, error::Error, fs, path::PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("proto");
    let file = root.join("hookgate/v1/event.proto");
    println!("cargo:rerun-if-changed={}", root.display());

    let descriptors = protox::compile([&file], [&root])?;
    // Keep a copy of the descriptors: pbjson generates its serde impls from them.
    let out = PathBuf::from(env::var("OUT_DIR")?);
    let descriptor_path = out.join("hookgate_descriptor.bin");
    fs::write(&descriptor_path, prost::Message::encode_to_vec(&descriptors))?;

    prost_build::Config::new()
        .compile_well_known_types()
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile_fds(descriptors)?;

    let descriptor_bytes = fs::read(&descriptor_path)?;
    pbjson_build::Builder::new()
        .register_descriptors(&descriptor_bytes)?
        // Emit default values (0, false, "") too: consumers without protobuf
        // should not have to know that an absent field means its default.
        .emit_fields()
        // A consumer built against 1.x reads any later 1.y: fields it does
        // not know are skipped (docs/events.md, "Versioning").
        .ignore_unknown_fields()
        .build(&[".hookgate"])?;
    Ok(())
}
