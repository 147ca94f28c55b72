-- Queries the previous release (v1.1.0) runs; they must keep working after the migration.
INSERT INTO orders (symbol, side, volume, price, status, created_at) VALUES ('XAUUSD', 'BUY', 0.1, 2350.25, 'FILLED', '2026-11-20 10:00:00');
SELECT id, symbol, side, volume, price, status, created_at FROM orders ORDER BY id DESC LIMIT 10;
SELECT count(*) FROM orders WHERE status = 'FILLED';
