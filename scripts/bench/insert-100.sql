INSERT INTO bench_rows (body) SELECT convert_to(repeat('x', 600), 'UTF8') FROM generate_series(1, 100);
