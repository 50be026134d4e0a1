-- pg-ip-listen durable channels: the log, the cursors and the dead letters (PostgreSQL 13 or later).
-- Schema version 1.
-- Safe to run again: it creates what is missing and replaces the function. The objects go into the first schema of
-- the search_path in effect (pg-ip-listen.durable.schema sets it when the library runs this script); the function
-- keeps that search_path, so it finds its table from any session.

-- The log rotates over four partitions (slots) and is never updated or deleted from row by row: the leader of a
-- group truncates a whole slot once every cursor is past it and the retention has passed, and moves publishing to
-- the next slot when it is empty. pg_ip_listen_slot says which slot is current (new messages go there) and when each
-- slot was opened and closed.
CREATE TABLE IF NOT EXISTS pg_ip_listen_slot (
    slot smallint PRIMARY KEY,
    current boolean NOT NULL,
    opened_at timestamptz,
    closed_at timestamptz
);
INSERT INTO pg_ip_listen_slot (slot, current, opened_at)
    VALUES (0, true, now()), (1, false, NULL), (2, false, NULL), (3, false, NULL)
    ON CONFLICT (slot) DO NOTHING;

-- The slot new messages go to (the column default of an INSERT that does not name it).
CREATE OR REPLACE FUNCTION pg_ip_listen_current_slot() RETURNS smallint
    LANGUAGE sql STABLE SET search_path FROM CURRENT
    AS 'SELECT slot FROM pg_ip_listen_slot WHERE current';

-- The log: append only. xid is the publishing transaction (pg_current_xact_id), which is what tells a consumer
-- whether a message is committed in a snapshot; id orders the messages of one transaction.
CREATE TABLE IF NOT EXISTS pg_ip_listen_message (
    id bigint GENERATED ALWAYS AS IDENTITY,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    channel text NOT NULL,
    payload text NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    slot smallint NOT NULL DEFAULT pg_ip_listen_current_slot(),
    CONSTRAINT pg_ip_listen_message_channel CHECK (channel <> '' AND octet_length(channel) <= 63),
    CONSTRAINT pg_ip_listen_message_payload_size CHECK (octet_length(payload) <= 16777216)
) PARTITION BY LIST (slot);
CREATE TABLE IF NOT EXISTS pg_ip_listen_message_0 PARTITION OF pg_ip_listen_message FOR VALUES IN (0);
CREATE TABLE IF NOT EXISTS pg_ip_listen_message_1 PARTITION OF pg_ip_listen_message FOR VALUES IN (1);
CREATE TABLE IF NOT EXISTS pg_ip_listen_message_2 PARTITION OF pg_ip_listen_message FOR VALUES IN (2);
CREATE TABLE IF NOT EXISTS pg_ip_listen_message_3 PARTITION OF pg_ip_listen_message FOR VALUES IN (3);
CREATE INDEX IF NOT EXISTS pg_ip_listen_message_position ON pg_ip_listen_message (channel, xid, id);

-- One cursor per group (a service) and channel. Everything visible in the snapshot lo is handled; the window being
-- drained is what is visible in hi and not in lo, handled up to (pos_xid, pos_id). version fences a consumer that
-- lost its leadership: each batch commits only if the version it read is still there.
CREATE TABLE IF NOT EXISTS pg_ip_listen_cursor (
    group_name text NOT NULL,
    channel text NOT NULL,
    lo pg_snapshot NOT NULL,
    hi pg_snapshot,
    pos_xid xid8 NOT NULL DEFAULT '0',
    pos_id bigint NOT NULL DEFAULT 0,
    version bigint NOT NULL DEFAULT 0,
    handled bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_name, channel)
);

-- Messages a group's listener failed on max-attempts times: kept with the last error, the channel moved on.
CREATE TABLE IF NOT EXISTS pg_ip_listen_dead_letter (
    group_name text NOT NULL,
    channel text NOT NULL,
    message_id bigint NOT NULL,
    xid xid8 NOT NULL,
    payload text NOT NULL,
    published_at timestamptz NOT NULL,
    attempts integer NOT NULL,
    error text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_name, channel, message_id)
);

-- Publishes from SQL (a trigger, psql, any language), as PgPublisher.publish does: the message is kept in the log
-- with the calling transaction and the listeners are woken when it commits. Returns the message's id. PL/pgSQL keeps
-- its statements' plans for the session; the body is a plain string so that any script runner splits it right.
CREATE OR REPLACE FUNCTION pg_ip_listen_publish(channel text, payload text) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT
    AS 'DECLARE id bigint;
        BEGIN
            INSERT INTO pg_ip_listen_message (channel, payload, slot)
                VALUES ($1, $2, (SELECT s.slot FROM pg_ip_listen_slot s WHERE s.current)) RETURNING pg_ip_listen_message.id INTO id;
            PERFORM pg_notify(''pg_ip_listen_durable'', $1);
            RETURN id;
        END';
