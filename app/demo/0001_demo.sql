-- Demo data for a fresh database, loaded once AFTER the definition rows are imported (the engine wraps
-- it in a transaction). Definition rows are referenced by name, never by id. Times are relative to
-- now(), so the demo always looks live.
--
-- Numbers are shaped after the recorded venue responses in shared/fixtures: Hyperliquid asset contexts
-- (BTC -0.0000015186/h, ETH 0.0000125/h, SOL 0.0000098512/h, NEAR 0.000054365/h, marks 77562 / 2123.7 /
-- 86.148), dYdX v4 nextFundingRate (BTC 0.0000025454..., SOL -0.0000014318...), Drift fundingRate.long
-- (0.00093 %/h), Lighter market_stats (BTC -0.0028 %/h) and the venues' fee schedules. Paradex's recorded
-- rate is from testnet (0.0075 per 8 h) and is replaced by a mainnet-like value.
--
-- Wallets are public test vectors from shared/vectors: alice = Anvil/Hardhat account #0 (its key is public,
-- so tests can sign in as her), bob = the web3.js eth.accounts.sign example key, carol = the SIWE spec's
-- example address, dave = the ethers.js test account for private key 0x...01.

-- -----------------------------------------------------------------------------------------------
-- Users, roles, wallets
-- -----------------------------------------------------------------------------------------------

INSERT INTO meta.users (username, wallet_address, is_active, created_at, last_login_at)
VALUES ('alice', '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', true, now() - interval '45 days', now() - interval '2 hours'),
       ('bob',   '0x2c7536E3605D9C16a7a3D7b1898e529396a65c23', true, now() - interval '35 days', now() - interval '1 day'),
       ('carol', '0x9D85ca56217D2bb651b00f15e694EB7E713637D4', true, now() - interval '60 days', now() - interval '5 hours'),
       ('dave',  '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf', true, now() - interval '90 days', now() - interval '30 minutes');

INSERT INTO meta.user_roles (user_id, role_id, granted_at, granted_by_user_id)
SELECT u.user_id, r.role_id, u.created_at,
       CASE WHEN v.role_name = 'trader' THEN NULL ELSE (SELECT user_id FROM meta.users WHERE username = 'dave') END
  FROM (VALUES ('alice', 'trader'),
               ('bob', 'trader'),
               ('carol', 'trader'), ('carol', 'quant'), ('carol', 'risk_manager'),
               ('dave', 'trader'), ('dave', 'operator'), ('dave', 'developer')) v (username, role_name)
  JOIN meta.users u ON u.username = v.username
  JOIN meta.roles r ON r.role_name = v.role_name;

INSERT INTO app.user_wallets (user_id, wallet_address, chain, label, encrypted_private_key, is_primary, created_at)
SELECT u.user_id, v.address, v.chain, v.label, NULL, v.is_primary, u.created_at + v.after
  FROM (VALUES ('alice', '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', 'arbitrum',    'main',            true,  interval '0'),
               ('alice', '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', 'hyperliquid', 'main',            true,  interval '1 hour'),
               ('alice', '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU', 'solana',     'drift account',   true,  interval '1 day'),
               ('bob',   '0x2c7536E3605D9C16a7a3D7b1898e529396a65c23', 'arbitrum',    'main',            true,  interval '0'),
               ('carol', '0x9D85ca56217D2bb651b00f15e694EB7E713637D4', 'arbitrum',    'research',        true,  interval '0'),
               ('dave',  '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf', 'ethereum',    'ops',             true,  interval '0')
       ) v (username, address, chain, label, is_primary, after)
  JOIN meta.users u ON u.username = v.username;

-- -----------------------------------------------------------------------------------------------
-- Markets: 23 perps on five venues. base_asset is canonical (through app.asset_aliases), so kPEPE,
-- PEPE-USD, 1MPEPE-PERP and 1000PEPE all pair as PEPE.
-- -----------------------------------------------------------------------------------------------

INSERT INTO app.markets (service_id, market_symbol, base_asset, quote_asset, settlement_asset, contract_multiplier,
                         tick_size, step_size, min_notional_usd, max_leverage, metadata_json, is_active, created_at)
SELECT s.service_id, v.symbol, coalesce(a.canonical_asset, v.venue_base), 'USD', 'USDC', coalesce(a.multiplier, 1),
       v.tick, v.step, v.min_notional, v.max_lev, v.meta::jsonb, true, now() - interval '90 days'
  FROM (VALUES
    ('hyperliquid', 'BTC',          'BTC',    NULL::numeric, 0.00001,   10,   40, '{"name":"BTC","szDecimals":5,"maxLeverage":40}'),
    ('hyperliquid', 'ETH',          'ETH',    NULL,          0.0001,    10,   25, '{"name":"ETH","szDecimals":4,"maxLeverage":25}'),
    ('hyperliquid', 'SOL',          'SOL',    NULL,          0.01,      10,   20, '{"name":"SOL","szDecimals":2,"maxLeverage":20}'),
    ('hyperliquid', 'kPEPE',        'kPEPE',  NULL,          1,         10,   10, '{"name":"kPEPE","szDecimals":0,"maxLeverage":10}'),
    ('hyperliquid', 'DOGE',         'DOGE',   NULL,          1,         10,   10, '{"name":"DOGE","szDecimals":0,"maxLeverage":10}'),
    ('hyperliquid', 'NEAR',         'NEAR',   NULL,          0.1,       10,   10, '{"name":"NEAR","szDecimals":1,"maxLeverage":10}'),
    ('dydx_v4',     'BTC-USD',      'BTC',    1,             0.0001,    NULL, 50, '{"ticker":"BTC-USD","clobPairId":"0","initialMarginFraction":"0.02","maintenanceMarginFraction":"0.012","atomicResolution":-10}'),
    ('dydx_v4',     'ETH-USD',      'ETH',    0.1,           0.001,     NULL, 50, '{"ticker":"ETH-USD","clobPairId":"1","initialMarginFraction":"0.02","maintenanceMarginFraction":"0.012","atomicResolution":-9}'),
    ('dydx_v4',     'SOL-USD',      'SOL',    0.01,          0.1,       NULL, 20, '{"ticker":"SOL-USD","clobPairId":"5","initialMarginFraction":"0.05","maintenanceMarginFraction":"0.03","atomicResolution":-7}'),
    ('dydx_v4',     'PEPE-USD',     'PEPE',   0.0000000001,  1000000,   NULL, 10, '{"ticker":"PEPE-USD","initialMarginFraction":"0.1","maintenanceMarginFraction":"0.05"}'),
    ('dydx_v4',     'DOGE-USD',     'DOGE',   0.00001,       10,        NULL, 10, '{"ticker":"DOGE-USD","initialMarginFraction":"0.1","maintenanceMarginFraction":"0.05"}'),
    ('paradex',     'BTC-USD-PERP', 'BTC',    0.1,           0.001,     10,   50, '{"symbol":"BTC-USD-PERP","asset_kind":"PERP","funding_period_hours":8,"max_funding_rate":"0.02"}'),
    ('paradex',     'ETH-USD-PERP', 'ETH',    0.01,          0.01,      10,   50, '{"symbol":"ETH-USD-PERP","asset_kind":"PERP","funding_period_hours":8,"max_funding_rate":"0.02"}'),
    ('paradex',     'SOL-USD-PERP', 'SOL',    0.001,         0.01,      10,   20, '{"symbol":"SOL-USD-PERP","asset_kind":"PERP","funding_period_hours":8,"max_funding_rate":"0.02"}'),
    ('drift',       'BTC-PERP',     'BTC',    0.1,           0.0001,    NULL, 20, '{"symbol":"BTC-PERP","marketIndex":1,"baseAsset":"BTC"}'),
    ('drift',       'ETH-PERP',     'ETH',    0.01,          0.001,     NULL, 20, '{"symbol":"ETH-PERP","marketIndex":2,"baseAsset":"ETH"}'),
    ('drift',       'SOL-PERP',     'SOL',    0.001,         0.01,      NULL, 20, '{"symbol":"SOL-PERP","marketIndex":0,"baseAsset":"SOL"}'),
    ('drift',       '1MPEPE-PERP',  '1MPEPE', 0.000001,      1,         NULL, 10, '{"symbol":"1MPEPE-PERP","marketIndex":10,"baseAsset":"1MPEPE"}'),
    ('lighter',     'BTC',          'BTC',    0.1,           0.00001,   10,   50, '{"symbol":"BTC","market_id":1,"price_decimals":1,"size_decimals":5}'),
    ('lighter',     'ETH',          'ETH',    0.01,          0.0001,    10,   50, '{"symbol":"ETH","market_id":0,"price_decimals":2,"size_decimals":4}'),
    ('lighter',     'SOL',          'SOL',    0.001,         0.001,     10,   25, '{"symbol":"SOL","market_id":2,"price_decimals":3,"size_decimals":3}'),
    ('lighter',     '1000PEPE',     '1000PEPE', 0.000001,    1,         10,   10, '{"symbol":"1000PEPE","market_id":4,"price_decimals":6,"size_decimals":0}'),
    ('lighter',     'NEAR',         'NEAR',   0.0001,        0.1,       10,   10, '{"symbol":"NEAR","market_id":10,"price_decimals":4,"size_decimals":1}')
  ) v (service_name, symbol, venue_base, tick, step, min_notional, max_lev, meta)
  JOIN meta.services s ON s.service_name = v.service_name
  LEFT JOIN app.asset_aliases a
    ON a.venue_symbol = v.venue_base AND (a.service_id = s.service_id OR a.service_id IS NULL)
   AND NOT EXISTS (SELECT 1 FROM app.asset_aliases a2
                    WHERE a2.venue_symbol = v.venue_base AND a2.service_id = s.service_id AND a.service_id IS NULL);

-- -----------------------------------------------------------------------------------------------
-- Latest funding rates. raw_rate is what the venue returns; rate_per_hour is normalised:
-- Paradex and Lighter quote 8-hour rates, Drift quotes percent.
-- -----------------------------------------------------------------------------------------------

INSERT INTO app.funding_rates (market_id, rate_per_hour, raw_rate, raw_interval_hours, source, fetched_at,
                               next_funding_at, mark_price, index_price, open_interest)
SELECT m.market_id,
       round(v.raw_rate / v.raw_interval / CASE WHEN s.service_name = 'drift' THEN 100 ELSE 1 END, 18),
       v.raw_rate,
       v.raw_interval,
       s.service_name || '_funding',
       now() - (v.age_s * interval '1 second'),
       CASE WHEN s.service_name = 'paradex' THEN NULL ELSE date_trunc('hour', now()) + interval '1 hour' END,
       px.mark,
       round(px.mark * 1.0002, 12),
       round(v.oi_usd / px.mark, 4)
  FROM (VALUES
    ('hyperliquid', 'BTC',          -0.0000015186,           1, 4,  2121000000),
    ('hyperliquid', 'ETH',           0.0000125,              1, 4,  1286000000),
    ('hyperliquid', 'SOL',           0.0000098512,           1, 4,   338400000),
    ('hyperliquid', 'kPEPE',         0.0000125,              1, 4,    19010000),
    ('hyperliquid', 'DOGE',          0.0000125,              1, 4,    38130000),
    ('hyperliquid', 'NEAR',          0.000054365,            1, 4,   141300000),
    ('dydx_v4',     'BTC-USD',       0.00000254545454545455, 1, 9,    34320000),
    ('dydx_v4',     'ETH-USD',       0.00000125,             1, 9,    15840000),
    ('dydx_v4',     'SOL-USD',      -0.00000143181818181818, 1, 9,     3610000),
    ('dydx_v4',     'PEPE-USD',      0.000061,               1, 9,     1250000),
    ('dydx_v4',     'DOGE-USD',      0.000048,               1, 9,     2730000),
    ('paradex',     'BTC-USD-PERP',  0.000096,               8, 12,   41800000),
    ('paradex',     'ETH-USD-PERP',  0.00008,                8, 12,   22600000),
    ('paradex',     'SOL-USD-PERP',  0.00022,                8, 12,    6900000),
    ('drift',       'BTC-PERP',      0.00093,                1, 20,   20540000),
    ('drift',       'ETH-PERP',      0.0035,                 1, 20,    9870000),
    ('drift',       'SOL-PERP',      0.0008,                 1, 20,   31200000),
    ('drift',       '1MPEPE-PERP',   0.0045,                 1, 20,     640000),
    ('lighter',     'BTC',          -0.000224,               8, 6,   102100000),
    ('lighter',     'ETH',           0.00004,                8, 6,    58090000),
    ('lighter',     'SOL',          -0.00004,                8, 6,    24400000),
    ('lighter',     '1000PEPE',     -0.00012,                8, 6,     3100000),
    ('lighter',     'NEAR',          0.00008,                8, 6,     7400000)
  ) v (service_name, symbol, raw_rate, raw_interval, age_s, oi_usd)
  JOIN meta.services s ON s.service_name = v.service_name
  JOIN app.markets m ON m.service_id = s.service_id AND m.market_symbol = v.symbol
  -- venue mark price = canonical price x contract multiplier x a small venue basis, on the venue's tick
  CROSS JOIN LATERAL (
    SELECT round(p.price * m.contract_multiplier
                   * (1 + CASE s.service_name WHEN 'dydx_v4' THEN 0.0002 WHEN 'paradex' THEN -0.0003
                                              WHEN 'drift' THEN 0.0004 WHEN 'lighter' THEN -0.0001 ELSE 0 END)
                   / t.tick) * t.tick AS mark
      FROM (VALUES ('BTC', 77560::numeric), ('ETH', 2123.8), ('SOL', 86.15), ('PEPE', 0.000003632),
                   ('DOGE', 0.10289), ('NEAR', 2.6992)) p (asset, price)
     CROSS JOIN LATERAL (SELECT coalesce(m.tick_size,
                                 power(10::numeric, floor(log(p.price * m.contract_multiplier)) - 4)) AS tick) t
     WHERE p.asset = m.base_asset
  ) px;

-- -----------------------------------------------------------------------------------------------
-- Funding history: seven days, hourly, for the BTC/ETH/SOL markets of the hourly venues, wandering
-- around today's rate (deterministic, no random()).
-- -----------------------------------------------------------------------------------------------

INSERT INTO app.funding_history (market_id, funding_time, rate_per_hour, raw_rate, raw_interval_hours, price, source, fetched_at)
SELECT f.market_id,
       date_trunc('hour', now()) - h * interval '1 hour',
       round(f.rate_per_hour + w.delta, 18),
       round((f.rate_per_hour + w.delta) * CASE WHEN s.service_name = 'drift' THEN 100 ELSE 1 END, 18),
       1,
       round(f.mark_price * (1 + 0.012 * sin(h / 19.0) - 0.004 * cos(h / 5.0))::numeric, 6),
       s.service_name || '_funding_history',
       date_trunc('hour', now()) - h * interval '1 hour' + interval '10 minutes'
  FROM app.funding_rates f
  JOIN app.markets m ON m.market_id = f.market_id
  JOIN meta.services s ON s.service_id = m.service_id
 CROSS JOIN generate_series(1, 168) h
 CROSS JOIN LATERAL (
   SELECT (0.0000080 * sin(h / 7.0 + m.market_id) + 0.0000035 * cos(h / 2.3 + 2 * m.market_id)
           + 0.0000015 * (((h * 7919 + m.market_id * 104729) % 97) / 48.5 - 1))::numeric AS delta
 ) w
 WHERE m.base_asset IN ('BTC','ETH','SOL')
   AND s.service_name IN ('hyperliquid','dydx_v4','drift','lighter');

-- Paradex settles every 8 hours: one row per period for its three markets.
INSERT INTO app.funding_history (market_id, funding_time, rate_per_hour, raw_rate, raw_interval_hours, price, source, fetched_at)
SELECT f.market_id,
       date_trunc('day', now()) - k * interval '8 hours',
       round(f.rate_per_hour * (1 + 0.35 * sin(k / 2.0 + m.market_id))::numeric, 18),
       round(f.raw_rate * (1 + 0.35 * sin(k / 2.0 + m.market_id))::numeric, 18),
       8,
       round(f.mark_price * (1 + 0.01 * sin(k / 3.0))::numeric, 6),
       'paradex_funding_history',
       date_trunc('day', now()) - k * interval '8 hours' + interval '10 minutes'
  FROM app.funding_rates f
  JOIN app.markets m ON m.market_id = f.market_id
  JOIN meta.services s ON s.service_id = m.service_id
 CROSS JOIN generate_series(0, 20) k
 WHERE s.service_name = 'paradex';

-- -----------------------------------------------------------------------------------------------
-- Order books: ten levels a side around each mark, tighter and deeper on the big venues and majors.
-- Levels are [price, size] decimal strings in venue units, rounded to tick and step.
-- -----------------------------------------------------------------------------------------------

INSERT INTO app.order_books (market_id, bids, asks, best_bid, best_ask, mid_price, venue_time, fetched_at, source)
WITH params AS (
  SELECT m.market_id, s.service_name, f.mark_price AS mark,
         coalesce(m.tick_size, power(10::numeric, floor(log(f.mark_price)) - 4)) AS tick,
         m.step_size AS step,
         vp.half_bps * CASE WHEN m.base_asset IN ('BTC','ETH','SOL') THEN 1 ELSE 3 END AS half_bps,
         CASE WHEN m.base_asset IN ('BTC','ETH','SOL') THEN 1.0 ELSE 5.0 END AS step_bps,
         vp.depth_usd * CASE m.base_asset WHEN 'BTC' THEN 1 WHEN 'ETH' THEN 0.6 WHEN 'SOL' THEN 0.3 ELSE 0.04 END AS level_usd
    FROM app.markets m
    JOIN meta.services s ON s.service_id = m.service_id
    JOIN app.funding_rates f ON f.market_id = m.market_id
    JOIN (VALUES ('hyperliquid', 0.6, 450000), ('dydx_v4', 0.9, 160000), ('paradex', 1.6, 70000),
                 ('drift', 2.5, 45000), ('lighter', 0.7, 260000)) vp (service_name, half_bps, depth_usd)
      ON vp.service_name = s.service_name
), levels AS (
  SELECT p.market_id, p.service_name, sd.side, i,
         round(p.mark * (1 + sd.sgn * (p.half_bps + (i - 1) * p.step_bps) / 10000) / p.tick) * p.tick AS price,
         p.step, p.level_usd
    FROM params p
   CROSS JOIN generate_series(1, 10) i
   CROSS JOIN (VALUES ('bid', -1), ('ask', 1)) sd (side, sgn)
), sized AS (
  SELECT market_id, service_name, side, i, price,
         greatest(step, round(level_usd * (1 + 0.15 * i) * (1 + 0.2 * sin(i * 1.7 + market_id)) / price / step) * step) AS size
    FROM levels
)
SELECT market_id,
       jsonb_agg(jsonb_build_array(price::text, size::text) ORDER BY price DESC) FILTER (WHERE side = 'bid'),
       jsonb_agg(jsonb_build_array(price::text, size::text) ORDER BY price ASC) FILTER (WHERE side = 'ask'),
       max(price) FILTER (WHERE side = 'bid'),
       min(price) FILTER (WHERE side = 'ask'),
       (max(price) FILTER (WHERE side = 'bid') + min(price) FILTER (WHERE side = 'ask')) / 2,
       now() - interval '3 seconds',
       now() - interval '2 seconds',
       min(service_name) || CASE min(service_name) WHEN 'drift' THEN '_l2' WHEN 'hyperliquid' THEN '_l2book' ELSE '_orderbook' END
  FROM sized
 GROUP BY market_id;

-- -----------------------------------------------------------------------------------------------
-- Opportunities of the main strategy: every same-asset pair whose hourly spread beats its
-- min_rate_spread. Sized with the limit-price book walk (levels within 5 bps of mid per leg, i.e. the
-- 10 bps budget split over both legs); the thinner leg decides. Active when the entry rules hold
-- (net APR >= min_net_apr, size >= min_size_usd); the rest are kept inactive.
-- -----------------------------------------------------------------------------------------------

INSERT INTO app.discovered_opportunities (strategy_id, base_asset, market_a_id, market_b_id, venue_a, venue_b,
       rate_a_per_hour, rate_b_per_hour, spread_per_hour, calculated_apr, max_size_usd, est_slippage_bps, fees_bps,
       net_apr, break_even_hours, discovered_at, updated_at, expires_at, is_active)
WITH st AS (
  SELECT s.strategy_id,
         (SELECT default_value::numeric FROM app.strategy_parameters p WHERE p.strategy_id = s.strategy_id AND p.param_name = 'min_rate_spread') AS min_spread,
         (SELECT default_value::numeric FROM app.strategy_parameters p WHERE p.strategy_id = s.strategy_id AND p.param_name = 'min_net_apr') AS min_net_apr,
         (SELECT default_value::numeric FROM app.strategy_parameters p WHERE p.strategy_id = s.strategy_id AND p.param_name = 'min_size_usd') AS min_size
    FROM app.strategies s WHERE s.strategy_name = 'Cross-venue funding carry'
), leg AS (
  SELECT m.market_id, m.base_asset, s.service_name, f.rate_per_hour, vf.taker_fee_rate, ob.mid_price,
         -- buying (long leg): asks within 5 bps of mid
         (SELECT sum(l.p * l.q) FROM (SELECT (e->>0)::numeric p, (e->>1)::numeric q FROM jsonb_array_elements(ob.asks) e) l
           WHERE l.p <= ob.mid_price * 1.0005) AS buy_usd,
         (SELECT sum(l.p * l.q) / sum(l.q) FROM (SELECT (e->>0)::numeric p, (e->>1)::numeric q FROM jsonb_array_elements(ob.asks) e) l
           WHERE l.p <= ob.mid_price * 1.0005) AS buy_vwap,
         -- selling (short leg): bids within 5 bps of mid
         (SELECT sum(l.p * l.q) FROM (SELECT (e->>0)::numeric p, (e->>1)::numeric q FROM jsonb_array_elements(ob.bids) e) l
           WHERE l.p >= ob.mid_price * 0.9995) AS sell_usd,
         (SELECT sum(l.p * l.q) / sum(l.q) FROM (SELECT (e->>0)::numeric p, (e->>1)::numeric q FROM jsonb_array_elements(ob.bids) e) l
           WHERE l.p >= ob.mid_price * 0.9995) AS sell_vwap
    FROM app.markets m
    JOIN meta.services s ON s.service_id = m.service_id AND s.service_type = 'DEX'
    JOIN app.funding_rates f ON f.market_id = m.market_id
    JOIN app.order_books ob ON ob.market_id = m.market_id
    JOIN app.venue_fees vf ON vf.service_id = m.service_id
   WHERE m.is_active
), pair AS (
  SELECT st.strategy_id, st.min_net_apr, st.min_size, a.base_asset, a.market_id AS a_id, b.market_id AS b_id,
         a.service_name AS venue_a, b.service_name AS venue_b, a.rate_per_hour AS rate_a, b.rate_per_hour AS rate_b,
         b.rate_per_hour - a.rate_per_hour AS spread,
         round(least(coalesce(a.buy_usd, 0), coalesce(b.sell_usd, 0)), 2) AS max_size,
         round(coalesce((a.buy_vwap - a.mid_price) / a.mid_price, 0) * 10000
             + coalesce((b.mid_price - b.sell_vwap) / b.mid_price, 0) * 10000, 4) AS slip_bps,
         round((a.taker_fee_rate + b.taker_fee_rate) * 2 * 10000, 4) AS fees_bps
    FROM st
    JOIN leg a ON true
    JOIN leg b ON b.base_asset = a.base_asset AND b.market_id <> a.market_id
   WHERE b.rate_per_hour - a.rate_per_hour > st.min_spread
), priced AS (
  SELECT pair.*,
         round(spread * 8760, 8) AS apr,
         round(spread * 8760 - (fees_bps + 2 * slip_bps) / 10000 * 8760
               / (SELECT (config_value #>> '{}')::numeric FROM meta.system_configuration WHERE config_key = 'opportunities.holding_hours'), 8) AS net,
         round((fees_bps + 2 * slip_bps) / 10000 / spread, 4) AS be_hours,
         -- spread the discovery times over the last two days so "Found" varies
         now() - ((a_id * 37 + b_id * 11) % 2880) * interval '1 minute' AS found
    FROM pair
)
SELECT strategy_id, base_asset, a_id, b_id, venue_a, venue_b, rate_a, rate_b, spread, apr, max_size, slip_bps, fees_bps, net,
       be_hours, found, now() - interval '20 seconds', date_trunc('hour', now()) + interval '1 hour',
       net >= min_net_apr AND max_size >= min_size
  FROM priced;

-- Two pairs that qualified yesterday and faded below the threshold (kept inactive for history).
INSERT INTO app.discovered_opportunities (strategy_id, base_asset, market_a_id, market_b_id, venue_a, venue_b,
       rate_a_per_hour, rate_b_per_hour, spread_per_hour, calculated_apr, max_size_usd, est_slippage_bps, fees_bps,
       net_apr, break_even_hours, discovered_at, updated_at, expires_at, is_active)
SELECT st.strategy_id, v.asset, ma.market_id, mb.market_id, v.venue_a, v.venue_b, v.ra, v.rb, v.rb - v.ra,
       round((v.rb - v.ra) * 8760, 8), v.size, v.slip, v.fees,
       round((v.rb - v.ra) * 8760 - (v.fees + 2 * v.slip) / 10000 * 8760 / 168, 8),
       round((v.fees + 2 * v.slip) / 10000 / (v.rb - v.ra), 4),
       now() - interval '30 hours', now() - interval '7 hours', now() - interval '6 hours', false
  FROM (VALUES ('ETH', 'hyperliquid', 'ETH',  'drift',   'ETH-PERP',     0.0000061, 0.0000268, 182000.00, 1.9, 16.0),
               ('SOL', 'hyperliquid', 'SOL',  'paradex', 'SOL-USD-PERP', 0.0000012, 0.0000231,  41000.00, 2.6, 15.0)
       ) v (asset, venue_a, sym_a, venue_b, sym_b, ra, rb, size, slip, fees)
  JOIN app.strategies st ON st.strategy_name = 'Cross-venue funding carry'
  JOIN meta.services sa ON sa.service_name = v.venue_a
  JOIN app.markets ma ON ma.service_id = sa.service_id AND ma.market_symbol = v.sym_a
  JOIN meta.services sb ON sb.service_name = v.venue_b
  JOIN app.markets mb ON mb.service_id = sb.service_id AND mb.market_symbol = v.sym_b
ON CONFLICT (strategy_id, market_a_id, market_b_id) DO NOTHING;

-- -----------------------------------------------------------------------------------------------
-- Portfolios and followers
-- -----------------------------------------------------------------------------------------------

INSERT INTO app.user_portfolios (user_id, portfolio_name, total_capital, asset_symbol, allocation_rules_json,
       opportunity_filter, mode, is_active, is_public, public_description, created_at)
SELECT u.user_id, v.name, v.capital, v.asset, v.rules::jsonb, v.filter, 'paper', v.active, v.public, v.descr, now() - v.age
  FROM (VALUES
    ('alice', 'Majors carry', 60000, 'USDC',
     '{"max_pct_per_opportunity":0.25,"max_pct_of_opportunity":0.25,"max_usd_per_opportunity":25000,"min_apr":0.15,"rebalance":"daily","compound":true}',
     'base_asset=in.(BTC,ETH,SOL)', true, true,
     E'Delta-neutral carry on **BTC, ETH and SOL** only.\n\n- at most 25 % of capital in one pair, and never more than a quarter of what its books can take\n- only pairs above 15 % net APR\n- rebalanced daily, funding compounded',
     interval '32 days'),
    ('bob', 'Set and forget', 40000, 'USDC',
     '{"max_pct_per_opportunity":0.25,"max_pct_of_opportunity":0.25,"max_usd_per_opportunity":50000,"min_apr":0.6,"rebalance":"daily","compound":true}',
     NULL, true, false, NULL, interval '20 days'),
    ('carol', 'Memecoin sandbox', 10000, 'USDT',
     '{"max_pct_per_opportunity":0.2,"max_pct_of_opportunity":0.1,"max_usd_per_opportunity":2000,"min_apr":0.4,"rebalance":"hourly","compound":false}',
     'base_asset=in.(PEPE,DOGE,NEAR)', false, false, NULL, interval '12 days')
  ) v (username, name, capital, asset, rules, filter, active, public, descr, age)
  JOIN meta.users u ON u.username = v.username;

INSERT INTO app.portfolio_followers (portfolio_id, follower_user_id, capital_allocated, followed_at, is_active)
SELECT p.portfolio_id, u.user_id, v.capital, now() - v.age, v.active
  FROM (VALUES ('bob', 20000, interval '20 days', true), ('carol', 10000, interval '12 days', true)) v (username, capital, age, active)
  JOIN meta.users u ON u.username = v.username
  JOIN app.user_portfolios p ON p.portfolio_name = 'Majors carry';

-- Thirty daily snapshots per active portfolio: cumulative PnL, AUM (followers join on their dates),
-- then Sharpe (sqrt 365) and max drawdown computed from the series itself.
INSERT INTO app.portfolio_stats_history (portfolio_id, "timestamp", pnl_pct, pnl_usd, aum_usd, followers, sharpe_ratio, max_drawdown)
WITH days AS (
  SELECT p.portfolio_id, p.total_capital, d,
         date_trunc('day', now()) - (29 - d) * interval '1 day' AS ts,
         round((d * CASE WHEN p.portfolio_name = 'Majors carry' THEN 0.00062 ELSE 0.00081 END
               + 0.0011 * sin(d / 2.7 + p.portfolio_id) - 0.0011 * sin(p.portfolio_id))::numeric, 10) AS pnl
    FROM app.user_portfolios p
   CROSS JOIN generate_series(0, 29) d
   WHERE p.is_active
), withf AS (
  SELECT days.*,
         (SELECT count(*) FROM app.portfolio_followers f WHERE f.portfolio_id = days.portfolio_id AND f.followed_at <= days.ts) AS nf,
         (SELECT coalesce(sum(f.capital_allocated), 0) FROM app.portfolio_followers f
           WHERE f.portfolio_id = days.portfolio_id AND f.followed_at <= days.ts) AS copied,
         1 + pnl AS nav
    FROM days
), rets AS (
  SELECT withf.*,
         nav / lag(nav) OVER w - 1 AS r,
         max(nav) OVER (PARTITION BY portfolio_id ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS peak
    FROM withf
  WINDOW w AS (PARTITION BY portfolio_id ORDER BY d)
), stats AS (
  SELECT rets.*,
         avg(r) OVER c AS mean_r, stddev_samp(r) OVER c AS sd_r,
         min(nav / peak - 1) OVER c AS mdd
    FROM rets
  WINDOW c AS (PARTITION BY portfolio_id ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT portfolio_id, ts, pnl, round(pnl * total_capital, 2), round((total_capital + copied) * nav, 2), nf,
       CASE WHEN d >= 2 AND sd_r > 0 THEN round(mean_r / sd_r * sqrt(365::numeric), 4) END,
       round(least(mdd, 0), 8)
  FROM stats;

-- -----------------------------------------------------------------------------------------------
-- Positions in every status, their trades, and the ledger that pays for them
-- -----------------------------------------------------------------------------------------------

INSERT INTO app.positions (strategy_id, user_id, opportunity_id, portfolio_id, base_asset, long_market_id, short_market_id,
       mode, status, target_size_usd, filled_size_usd, execution_algo_id, execution_params_json, idempotency_key,
       opened_at, closed_at, error_message)
SELECT st.strategy_id, u.user_id, o.opportunity_id, pf.portfolio_id, v.asset, ml.market_id, ms.market_id,
       'paper', v.status, v.target, v.filled, ea.algo_id, ea.parameters_json || st.execution_params_json, v.pkey,
       now() - v.opened_ago, now() - v.closed_ago, v.err
  FROM (VALUES
    ('demo-pos-alice-btc',  'alice', 'Cross-venue funding carry', 'BTC',  'lighter',     'BTC',      'paradex', 'BTC-USD-PERP', 'OPEN',    25000, 25000, interval '3 days',     NULL::interval,  'SLICED_DELTA_NEUTRAL', 'Majors carry', NULL),
    ('demo-pos-alice-pepe', 'alice', 'Cross-venue funding carry', 'PEPE', 'lighter',     '1000PEPE', 'dydx_v4', 'PEPE-USD',     'OPEN',     4000,  4000, interval '20 hours',   NULL,            'INSTANT',              NULL,           NULL),
    ('demo-pos-alice-eth',  'alice', 'Majors hourly carry',       'ETH',  'dydx_v4',     'ETH-USD',  'drift',   'ETH-PERP',     'CLOSED',  15000, 15000, interval '10 days',    interval '4 days', 'TWAP',               'Majors carry', NULL),
    ('demo-pos-alice-sol',  'alice', 'Cross-venue funding carry', 'SOL',  'lighter',     'SOL',      'paradex', 'SOL-USD-PERP', 'OPENING', 20000,  8000, interval '6 minutes',  NULL,            'SLICED_DELTA_NEUTRAL', 'Majors carry', NULL),
    ('demo-pos-alice-doge', 'alice', 'Cross-venue funding carry', 'DOGE', 'hyperliquid', 'DOGE',     'dydx_v4', 'DOGE-USD',     'ERROR',    6000,     0, interval '2 days',     NULL,            'INSTANT',              NULL,
     'Hedge leg rejected by dydx_v4 (insufficient margin); the 1,200 USD long on hyperliquid was unwound. See the execution log.'),
    ('demo-pos-bob-btc',    'bob',   'Cross-venue funding carry', 'BTC',  'lighter',     'BTC',      'drift',   'BTC-PERP',     'OPEN',    10000, 10000, interval '2 days',     NULL,            'SLICED_DELTA_NEUTRAL', 'Majors carry', NULL),
    ('demo-pos-bob-near',   'bob',   'Cross-venue funding carry', 'NEAR', 'lighter',     'NEAR',     'hyperliquid', 'NEAR',     'CLOSING',  5000,  5000, interval '5 days',     NULL,            'INSTANT',              'Set and forget', NULL),
    ('demo-pos-carol-sol',  'carol', 'Cross-venue funding carry', 'SOL',  'dydx_v4',     'SOL-USD',  'paradex', 'SOL-USD-PERP', 'CLOSED',  12000, 12000, interval '14 days',    interval '9 days', 'TWAP',               NULL,           NULL)
  ) v (pkey, username, strategy, asset, long_svc, long_sym, short_svc, short_sym, status, target, filled, opened_ago, closed_ago, algo, portfolio, err)
  JOIN meta.users u ON u.username = v.username
  JOIN app.strategies st ON st.strategy_name = v.strategy
  JOIN app.execution_algorithms ea ON ea.algo_name = v.algo
  JOIN meta.services sl ON sl.service_name = v.long_svc
  JOIN app.markets ml ON ml.service_id = sl.service_id AND ml.market_symbol = v.long_sym
  JOIN meta.services ss ON ss.service_name = v.short_svc
  JOIN app.markets ms ON ms.service_id = ss.service_id AND ms.market_symbol = v.short_sym
  LEFT JOIN app.discovered_opportunities o
    ON o.strategy_id = st.strategy_id AND o.market_a_id = ml.market_id AND o.market_b_id = ms.market_id
  LEFT JOIN app.user_portfolios pf ON pf.portfolio_name = v.portfolio;

-- Trades: one row per leg and slice. Fill prices are the mid at that time (today's mid moved by
-- price_move) plus 1.5 bps against us; pending and failed orders have only a limit price.
INSERT INTO app.trades (position_id, market_id, trade_direction, side, amount, limit_price, price, fee_usd, status,
       client_order_id, venue_order_id, tx_hash, slice_index, error_message, created_at, executed_at)
WITH slices (pkey, direction, side, slice_index, usd, status, ago, price_move, err) AS (
  VALUES
    ('demo-pos-alice-btc',  'ENTRY', 'LONG',  0, 5000, 'EXECUTED', interval '3 days',                     -0.0120, NULL),
    ('demo-pos-alice-btc',  'ENTRY', 'SHORT', 0, 5000, 'EXECUTED', interval '3 days' - interval '2 seconds', -0.0120, NULL),
    ('demo-pos-alice-btc',  'ENTRY', 'LONG',  1, 5000, 'EXECUTED', interval '3 days' - interval '30 seconds', -0.0119, NULL),
    ('demo-pos-alice-btc',  'ENTRY', 'SHORT', 1, 5000, 'EXECUTED', interval '3 days' - interval '32 seconds', -0.0119, NULL),
    ('demo-pos-alice-btc',  'ENTRY', 'LONG',  2, 5000, 'EXECUTED', interval '3 days' - interval '60 seconds', -0.0121, NULL),
    ('demo-pos-alice-btc',  'ENTRY', 'SHORT', 2, 5000, 'EXECUTED', interval '3 days' - interval '62 seconds', -0.0121, NULL),
    ('demo-pos-alice-btc',  'ENTRY', 'LONG',  3, 5000, 'EXECUTED', interval '3 days' - interval '90 seconds', -0.0118, NULL),
    ('demo-pos-alice-btc',  'ENTRY', 'SHORT', 3, 5000, 'EXECUTED', interval '3 days' - interval '92 seconds', -0.0118, NULL),
    ('demo-pos-alice-btc',  'ENTRY', 'LONG',  4, 5000, 'EXECUTED', interval '3 days' - interval '120 seconds', -0.0117, NULL),
    ('demo-pos-alice-btc',  'ENTRY', 'SHORT', 4, 5000, 'EXECUTED', interval '3 days' - interval '122 seconds', -0.0117, NULL),
    ('demo-pos-alice-pepe', 'ENTRY', 'LONG',  0, 4000, 'EXECUTED', interval '20 hours',                   0.0210, NULL),
    ('demo-pos-alice-pepe', 'ENTRY', 'SHORT', 0, 4000, 'EXECUTED', interval '20 hours' - interval '1 second', 0.0210, NULL),
    ('demo-pos-alice-eth',  'ENTRY', 'LONG',  0, 5000, 'EXECUTED', interval '10 days',                    -0.0450, NULL),
    ('demo-pos-alice-eth',  'ENTRY', 'SHORT', 0, 5000, 'EXECUTED', interval '10 days' - interval '1 second', -0.0450, NULL),
    ('demo-pos-alice-eth',  'ENTRY', 'LONG',  1, 5000, 'EXECUTED', interval '10 days' - interval '5 minutes', -0.0447, NULL),
    ('demo-pos-alice-eth',  'ENTRY', 'SHORT', 1, 5000, 'EXECUTED', interval '10 days' - interval '301 seconds', -0.0447, NULL),
    ('demo-pos-alice-eth',  'ENTRY', 'LONG',  2, 5000, 'EXECUTED', interval '10 days' - interval '10 minutes', -0.0452, NULL),
    ('demo-pos-alice-eth',  'ENTRY', 'SHORT', 2, 5000, 'EXECUTED', interval '10 days' - interval '601 seconds', -0.0452, NULL),
    ('demo-pos-alice-eth',  'EXIT',  'LONG',  0, 15000, 'EXECUTED', interval '4 days',                    -0.0180, NULL),
    ('demo-pos-alice-eth',  'EXIT',  'SHORT', 0, 15000, 'EXECUTED', interval '4 days' - interval '1 second', -0.0180, NULL),
    ('demo-pos-alice-sol',  'ENTRY', 'LONG',  0, 4000, 'EXECUTED', interval '6 minutes',                  0.0004, NULL),
    ('demo-pos-alice-sol',  'ENTRY', 'SHORT', 0, 4000, 'EXECUTED', interval '6 minutes' - interval '2 seconds', 0.0004, NULL),
    ('demo-pos-alice-sol',  'ENTRY', 'LONG',  1, 4000, 'EXECUTED', interval '5 minutes' - interval '30 seconds', 0.0002, NULL),
    ('demo-pos-alice-sol',  'ENTRY', 'SHORT', 1, 4000, 'EXECUTED', interval '5 minutes' - interval '32 seconds', 0.0002, NULL),
    ('demo-pos-alice-sol',  'ENTRY', 'LONG',  2, 4000, 'PENDING',  interval '20 seconds',                 0,      NULL),
    ('demo-pos-alice-sol',  'ENTRY', 'SHORT', 2, 4000, 'PENDING',  interval '19 seconds',                 0,      NULL),
    ('demo-pos-alice-doge', 'ENTRY', 'LONG',  0, 1200, 'EXECUTED', interval '2 days',                     0.0310, NULL),
    ('demo-pos-alice-doge', 'ENTRY', 'SHORT', 0, 1200, 'FAILED',   interval '2 days' - interval '1 second', 0.0310,
     'dydx_v4 rejected the order: insufficient margin for subaccount 0'),
    ('demo-pos-alice-doge', 'EXIT',  'LONG',  0, 1200, 'EXECUTED', interval '2 days' - interval '4 seconds', 0.0305, NULL),
    ('demo-pos-bob-btc',    'ENTRY', 'LONG',  0, 5000, 'EXECUTED', interval '2 days',                     -0.0080, NULL),
    ('demo-pos-bob-btc',    'ENTRY', 'SHORT', 0, 5000, 'EXECUTED', interval '2 days' - interval '2 seconds', -0.0080, NULL),
    ('demo-pos-bob-btc',    'ENTRY', 'LONG',  1, 5000, 'EXECUTED', interval '2 days' - interval '30 seconds', -0.0081, NULL),
    ('demo-pos-bob-btc',    'ENTRY', 'SHORT', 1, 5000, 'EXECUTED', interval '2 days' - interval '32 seconds', -0.0081, NULL),
    ('demo-pos-bob-near',   'ENTRY', 'LONG',  0, 5000, 'EXECUTED', interval '5 days',                     -0.0600, NULL),
    ('demo-pos-bob-near',   'ENTRY', 'SHORT', 0, 5000, 'EXECUTED', interval '5 days' - interval '1 second', -0.0600, NULL),
    ('demo-pos-bob-near',   'EXIT',  'LONG',  0, 5000, 'EXECUTED', interval '40 seconds',                 0,      NULL),
    ('demo-pos-bob-near',   'EXIT',  'SHORT', 0, 5000, 'PENDING',  interval '38 seconds',                 0,      NULL),
    ('demo-pos-carol-sol',  'ENTRY', 'LONG',  0, 6000, 'EXECUTED', interval '14 days',                    0.0700, NULL),
    ('demo-pos-carol-sol',  'ENTRY', 'SHORT', 0, 6000, 'EXECUTED', interval '14 days' - interval '1 second', 0.0700, NULL),
    ('demo-pos-carol-sol',  'ENTRY', 'LONG',  1, 6000, 'EXECUTED', interval '14 days' - interval '5 minutes', 0.0702, NULL),
    ('demo-pos-carol-sol',  'ENTRY', 'SHORT', 1, 6000, 'EXECUTED', interval '14 days' - interval '301 seconds', 0.0702, NULL),
    ('demo-pos-carol-sol',  'EXIT',  'LONG',  0, 12000, 'EXECUTED', interval '9 days',                    0.0510, NULL),
    ('demo-pos-carol-sol',  'EXIT',  'SHORT', 0, 12000, 'EXECUTED', interval '9 days' - interval '1 second', 0.0510, NULL)
), legs AS (
  SELECT p.position_id, p.idempotency_key, s.*,
         CASE WHEN s.side = 'LONG' THEN p.long_market_id ELSE p.short_market_id END AS market_id,
         -- buying: ENTRY of the long leg, EXIT of the short leg
         CASE WHEN (s.direction = 'ENTRY') = (s.side = 'LONG') THEN 1 ELSE -1 END AS buy_sgn
    FROM slices s
    JOIN app.positions p ON p.idempotency_key = s.pkey
), px AS (
  SELECT legs.*, m.step_size, vf.taker_fee_rate, s.service_name,
         coalesce(m.tick_size, power(10::numeric, floor(log(ob.mid_price)) - 4)) AS tick,
         ob.mid_price * (1 + legs.price_move) AS mid_then
    FROM legs
    JOIN app.markets m ON m.market_id = legs.market_id
    JOIN meta.services s ON s.service_id = m.service_id
    JOIN app.venue_fees vf ON vf.service_id = m.service_id
    JOIN app.order_books ob ON ob.market_id = legs.market_id
), filled AS (
  SELECT px.*,
         round(mid_then * (1 + buy_sgn * 0.00015) / tick) * tick AS fill_price,
         round(mid_then * (1 + buy_sgn * 0.0010) / tick) * tick AS lim_price,
         greatest(step_size, round(usd / mid_then / step_size) * step_size) AS qty
    FROM px
)
SELECT position_id, market_id, direction, side, qty, lim_price,
       CASE WHEN status = 'EXECUTED' THEN fill_price END,
       CASE WHEN status = 'EXECUTED' THEN round(qty * fill_price * taker_fee_rate, 8) ELSE 0 END,
       status,
       'carry-' || substr(idempotency_key, 10) || '-' || lower(direction) || '-' || lower(side) || '-' || slice_index,
       CASE WHEN status IN ('EXECUTED','FAILED') THEN substr(md5(idempotency_key || direction || side || slice_index), 1, 16) END,
       CASE WHEN status = 'EXECUTED' AND service_name = 'lighter'
            THEN '0x' || md5(idempotency_key || side || slice_index) || md5(side || slice_index || idempotency_key) END,
       slice_index, err, now() - ago,
       CASE WHEN status = 'EXECUTED' THEN now() - ago + interval '400 milliseconds' END
  FROM filled;

-- Paper cash: the starting balance, then per position an allocation of collateral (notional per leg x 2
-- legs / 3x leverage), a fee per fill, daily funding, and for finished positions the release and the
-- realised price PnL.
INSERT INTO app.ledger_entries (user_id, entry_type, amount_usd, asset_symbol, mode, position_id, reference, idempotency_key, created_at)
SELECT u.user_id, 'DEPOSIT',
       (SELECT (config_value #>> '{}')::numeric FROM meta.system_configuration WHERE config_key = 'paper.starting_balance_usd'),
       'USDC', 'paper', NULL, 'paper starting balance', 'demo:deposit:' || u.username, u.created_at
  FROM meta.users u;

INSERT INTO app.ledger_entries (user_id, entry_type, amount_usd, asset_symbol, mode, position_id, reference, idempotency_key, created_at)
SELECT p.user_id, 'ALLOCATION', -round(greatest(p.filled_size_usd, 1200) * 2 / 3, 2), 'USDC', 'paper', p.position_id,
       'collateral for both legs at 3x', 'demo:alloc:' || p.idempotency_key, p.opened_at
  FROM app.positions p;

INSERT INTO app.ledger_entries (user_id, entry_type, amount_usd, asset_symbol, mode, position_id, reference, idempotency_key, created_at)
SELECT p.user_id, 'FEE', -t.fee_usd, 'USDC', 'paper', p.position_id, 'fee ' || t.client_order_id, 'demo:fee:' || t.client_order_id, t.executed_at
  FROM app.trades t
  JOIN app.positions p ON p.position_id = t.position_id
 WHERE t.status = 'EXECUTED' AND t.fee_usd <> 0;

-- Funding: one booking per started day held, at the pair's current spread with a gentle daily wobble.
INSERT INTO app.ledger_entries (user_id, entry_type, amount_usd, asset_symbol, mode, position_id, reference, idempotency_key, created_at)
SELECT p.user_id, 'FUNDING',
       round(p.filled_size_usd * (fs.rate_per_hour - fl.rate_per_hour) * hrs.h * (1 + 0.15 * sin(d + p.position_id))::numeric, 8),
       'USDC', 'paper', p.position_id, 'funding day ' || d, 'demo:funding:' || p.idempotency_key || ':' || d,
       p.opened_at + least(d * interval '1 day', coalesce(p.closed_at, now()) - p.opened_at)
  FROM app.positions p
  JOIN app.funding_rates fl ON fl.market_id = p.long_market_id
  JOIN app.funding_rates fs ON fs.market_id = p.short_market_id
 CROSS JOIN LATERAL (SELECT extract(epoch FROM coalesce(p.closed_at, now()) - p.opened_at) / 3600 AS total_h) th
 CROSS JOIN LATERAL generate_series(1, ceil(th.total_h / 24)::int) d
 CROSS JOIN LATERAL (SELECT least(24, th.total_h - (d - 1) * 24)::numeric AS h) hrs
 WHERE p.status IN ('OPEN','CLOSING','CLOSED') AND th.total_h >= 1;

-- Price PnL from the fills: cash flows of all fills plus what is still held, valued at today's mid.
UPDATE app.positions p
   SET price_pnl_usd = x.price_pnl,
       fees_usd = x.fees
  FROM (SELECT t.position_id,
               round(sum(CASE WHEN t.status = 'EXECUTED' THEN
                           CASE WHEN (t.trade_direction = 'ENTRY') = (t.side = 'LONG') THEN -1 ELSE 1 END * t.amount * (t.price - ob.mid_price)
                         ELSE 0 END), 8) AS price_pnl,
               sum(CASE WHEN t.status = 'EXECUTED' THEN t.fee_usd ELSE 0 END) AS fees
          FROM app.trades t
          JOIN app.order_books ob ON ob.market_id = t.market_id
         GROUP BY t.position_id) x
 WHERE x.position_id = p.position_id;

INSERT INTO app.ledger_entries (user_id, entry_type, amount_usd, asset_symbol, mode, position_id, reference, idempotency_key, created_at)
SELECT p.user_id, v.entry_type,
       CASE v.entry_type WHEN 'RELEASE' THEN round(greatest(p.filled_size_usd, 1200) * 2 / 3, 2) ELSE p.price_pnl_usd END,
       'USDC', 'paper', p.position_id, v.ref, 'demo:' || lower(v.entry_type) || ':' || p.idempotency_key,
       coalesce(p.closed_at, p.opened_at + interval '5 seconds')
  FROM app.positions p
 CROSS JOIN (VALUES ('REALISED_PNL', 'price PnL of both legs'), ('RELEASE', 'collateral returned')) v (entry_type, ref)
 WHERE p.status IN ('CLOSED','ERROR')
   AND NOT (v.entry_type = 'REALISED_PNL' AND p.price_pnl_usd = 0);

UPDATE app.positions p
   SET funding_pnl_usd = coalesce((SELECT sum(l.amount_usd) FROM app.ledger_entries l
                                    WHERE l.position_id = p.position_id AND l.entry_type = 'FUNDING'), 0),
       net_pnl_usd = coalesce((SELECT sum(l.amount_usd) FROM app.ledger_entries l
                                WHERE l.position_id = p.position_id AND l.entry_type = 'FUNDING'), 0)
                     + p.price_pnl_usd - p.fees_usd;

-- -----------------------------------------------------------------------------------------------
-- Backtests
-- -----------------------------------------------------------------------------------------------

INSERT INTO app.backtest_sessions (strategy_id, user_id, start_time, end_time, initial_capital, status, parameters_json,
       results_summary_json, error_message, created_at, finished_at)
SELECT st.strategy_id, u.user_id, v.t0, v.t1, v.capital, v.status, v.params::jsonb, v.results::jsonb, v.err,
       now() - v.age, CASE WHEN v.status IN ('COMPLETED','FAILED') THEN now() - v.age + interval '47 seconds' END
  FROM (VALUES
    ('carol', 'Cross-venue funding carry', timestamptz '2023-05-12 00:00:00+00', timestamptz '2023-07-17 00:00:00+00', 100000, 'COMPLETED',
     '{"min_rate_spread":"0.00002","max_slippage_bps":"10"}',
     '{"total_pnl":4127.55,"apr":0.2283,"funding_pnl":5310.20,"fees":-842.15,"price_pnl":-340.50,"sharpe_ratio":3.1,"max_drawdown":-0.0062,"trades":58,"positions":14,"avg_hold_hours":61.5,"data":"Hyperliquid BTC hourly funding 2023-05-12..2023-07-17 (recorded) against modelled second legs"}',
     NULL, interval '6 days'),
    ('alice', 'Majors hourly carry', now() - interval '30 days', now() - interval '1 day', 50000, 'PENDING',
     '{"min_rate_spread":"0.000008"}', NULL, NULL, interval '3 minutes'),
    ('carol', 'Memecoin carry (1000x aliases)', timestamptz '2023-01-01 00:00:00+00', timestamptz '2023-03-01 00:00:00+00', 10000, 'FAILED',
     '{}', NULL, 'No funding history for PEPE before 2023-05-05 on any venue; choose a later start.', interval '2 days')
  ) v (username, strategy, t0, t1, capital, status, params, results, err, age)
  JOIN meta.users u ON u.username = v.username
  JOIN app.strategies st ON st.strategy_name = v.strategy;

-- -----------------------------------------------------------------------------------------------
-- Error report, execution log and job runs
-- -----------------------------------------------------------------------------------------------

INSERT INTO meta.error_reports (error_id, code, status, message, details, hint, fingerprint, stack, request, user_id, role_name,
       definition_refs, created_at)
SELECT '5f0c2a8e-3d41-4b7a-9c1e-6a2b8d4f7e10'::uuid, 'venue_order_rejected', 502,
       'dydx_v4 rejected the hedge order: insufficient margin for subaccount 0',
       jsonb_build_object('position_id', p.position_id, 'service', 'dydx_v4', 'market', 'DOGE-USD', 'side', 'SHORT',
                          'client_order_id', 'carry-alice-doge-entry-short-0', 'venue_response', jsonb_build_object('code', 'InsufficientMargin')),
       'Top up the dydx_v4 subaccount or lower risk.max_leverage; the unhedged long was unwound automatically.',
       'c1d7a0b35e8f4a62b9d1e0f3a4c5b6d7', NULL, NULL, p.user_id::text, 'trader',
       '[{"table":"app.execution_algorithms","key":"INSTANT"},{"table":"meta.services","key":"dydx_v4"},{"table":"app.strategies","key":"Cross-venue funding carry"}]'::jsonb,
       p.opened_at + interval '2 seconds'
  FROM app.positions p WHERE p.idempotency_key = 'demo-pos-alice-doge';

INSERT INTO meta.execution_logs (strategy_id, position_id, endpoint_name, source, log_level, message, details_json, error_id, "timestamp")
SELECT st.strategy_id, p.position_id, v.endpoint, v.source, v.lvl, v.msg, v.details::jsonb, v.err, now() - v.ago
  FROM (VALUES
    (NULL, NULL, 'hyperliquid_funding', 'connector', 'INFO', 'Fetched funding for 6 markets from hyperliquid_funding.', '{"rows_upserted":6,"duration_ms":182}', NULL::uuid, interval '4 seconds'),
    (NULL, NULL, 'drift_l2', 'connector', 'WARN', 'drift_l2 answered 429 Too Many Requests; backing off for 20 s.', '{"status":429,"retry_in_ms":20000}', NULL, interval '3 minutes'),
    ('Cross-venue funding carry', NULL, NULL, 'rules', 'INFO', 'Rule group ENTRY_CONDITION evaluated to TRUE for BTC lighter/paradex.',
     '{"opportunity":{"spread_per_hour":"0.00004","net_apr":"0.30"},"params":{"min_rate_spread":"0.00002","min_net_apr":"0.10"}}', NULL, interval '25 seconds'),
    ('Cross-venue funding carry', 'demo-pos-alice-sol', NULL, 'execution.sliced_delta_neutral', 'INFO', 'Slice 1 of 5 filled on both legs (4,000 USD each).',
     '{"slice_index":1,"long":{"venue":"lighter","filled_usd":4000},"short":{"venue":"paradex","filled_usd":4000}}', NULL, interval '4 minutes'),
    ('Cross-venue funding carry', 'demo-pos-alice-sol', NULL, 'execution.sliced_delta_neutral', 'DEBUG', 'Slice 2 sent: hard leg lighter first (thinner book), IOC limit 10 bps.',
     '{"slice_index":2,"hard_leg":"lighter"}', NULL, interval '20 seconds'),
    ('Cross-venue funding carry', 'demo-pos-alice-doge', NULL, 'execution.instant', 'ERROR', 'Hedge leg rejected by dydx_v4; unwinding the filled long on hyperliquid.',
     '{"filled_long_usd":1200,"hedge":"FAILED"}', '5f0c2a8e-3d41-4b7a-9c1e-6a2b8d4f7e10', interval '2 days'),
    ('Cross-venue funding carry', 'demo-pos-alice-doge', NULL, 'execution.instant', 'WARN', 'Position moved to ERROR after unwinding; no exposure left.',
     '{"imbalance_usd":0}', NULL, interval '2 days' - interval '5 seconds'),
    ('Majors hourly carry', 'demo-pos-alice-eth', NULL, 'rules', 'INFO', 'Rule group EXIT_CONDITION evaluated to TRUE: spread fell below exit_spread_per_hour; closing.',
     '{"current_spread_per_hour":"0.0000008","exit_spread_per_hour":"0.000001"}', NULL, interval '4 days'),
    ('Cross-venue funding carry', 'demo-pos-bob-near', NULL, 'rules', 'INFO', 'Rule group EXIT_PROFIT evaluated to TRUE; closing.',
     '{"net_pnl_pct":"0.051","take_profit_pct":"0.05"}', NULL, interval '45 seconds'),
    (NULL, NULL, NULL, 'job', 'INFO', 'snapshot-portfolio-stats wrote 2 rows.', '{"job":"snapshot-portfolio-stats","rows":2}', NULL, interval '9 hours')
  ) v (strategy, pkey, endpoint, source, lvl, msg, details, err, ago)
  LEFT JOIN app.strategies st ON st.strategy_name = v.strategy
  LEFT JOIN app.positions p ON p.idempotency_key = v.pkey;

INSERT INTO meta.job_runs (job_id, started_at, finished_at, outcome, error_id, worker, details_json)
SELECT j.job_id, now() - v.ago, now() - v.ago + v.took, v.outcome, NULL, 'demo-host:4242', v.details::jsonb
  FROM (VALUES ('scan-opportunities', interval '25 seconds', interval '1.8 seconds', 'SUCCEEDED', '{"pairs_checked":41,"active":13}'),
               ('settle-paper-funding', interval '59 minutes', interval '0.9 seconds', 'SUCCEEDED', '{"legs_settled":8}'),
               ('snapshot-portfolio-stats', interval '9 hours', interval '2.4 seconds', 'SUCCEEDED', '{"rows":2}'),
               ('backfill-funding-history-dydx', interval '48 minutes', interval '10 seconds', 'FAILED', '{"error":"simulator not running: connect ECONNREFUSED 127.0.0.1"}')
       ) v (job_name, ago, took, outcome, details)
  JOIN meta.jobs j ON j.job_name = v.job_name;
