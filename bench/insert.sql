INSERT INTO bench_insert (payload) VALUES ('What is AI?');
