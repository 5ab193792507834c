INSERT INTO bench_rows (body) VALUES (convert_to(repeat('x', 600), 'UTF8'));
