"""The database functions (SQL) of schema versions 2 and 4: one round trip per callback, per event.

They hold the history's rules for PostgreSQL (a status never moves a call backwards; non-empty
columns win) and the ordered append to the event log. A later change to any of them is a new
migration with CREATE OR REPLACE FUNCTION, never an edit here.
"""

FUNCTIONS = """
-- Server-side functions of schema version 2: one round trip per callback, per event.
-- (A later change to any of them is a new migration with CREATE OR REPLACE.)

-- Where a status stands in a call's life; a late or duplicate callback never moves it back.
CREATE FUNCTION switchboard_rank(status TEXT) RETURNS INTEGER
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN status IN ('queued', 'initiated') THEN 0
        WHEN status = 'ringing' THEN 1
        WHEN status IN ('in-progress', 'answered') THEN 2
        WHEN status IN ('completed', 'busy', 'no-answer', 'failed', 'canceled') THEN 3
        ELSE -1 END
$$;

-- Append an event: the account's advisory lock is held to the commit, so ids become visible
-- in order; every server process hears of it through NOTIFY.
CREATE FUNCTION switchboard_append_event(p_account TEXT, p_kind TEXT, p_data JSONB)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    new_id BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(1398228310, hashtext(p_account));
    INSERT INTO event_log (account, kind, data) VALUES (p_account, p_kind, p_data)
        RETURNING id INTO new_id;
    PERFORM pg_notify('switchboard_events', 'event ' || p_account);
    RETURN new_id;
END $$;

-- Record a call (non-empty columns win) and, if given, one status: the history's rules.
-- One write of the calls row (every index of the table is written once per row version).
-- Returns whether the status was new for the call.
CREATE FUNCTION switchboard_record_call(
    p_account TEXT, p_sid TEXT, p_created TIMESTAMPTZ, p_direction TEXT, p_from TEXT,
    p_to TEXT, p_room TEXT, p_identity TEXT, p_display_name TEXT, p_operator TEXT,
    p_status TEXT, p_sequence INTEGER, p_duration INTEGER, p_error_code TEXT,
    p_error_message TEXT
) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
    inserted BOOLEAN := FALSE;
    ends BOOLEAN := switchboard_rank(p_status) = 3;
    has_error BOOLEAN := p_error_code <> '' OR p_error_message <> '';
BEGIN
    IF p_status <> '' THEN  -- the status first (its foreign key is checked at commit)
        INSERT INTO call_statuses (account, sid, status, at, sequence)
        VALUES (p_account, p_sid, p_status, p_created, p_sequence)
        ON CONFLICT DO NOTHING;
        inserted := FOUND;
        IF NOT inserted AND p_sequence IS NOT NULL THEN
            UPDATE call_statuses SET sequence = p_sequence
            WHERE account = p_account AND sid = p_sid AND status = p_status
              AND sequence IS NULL;
        END IF;
    END IF;
    INSERT INTO calls AS c (account, sid, created_at, direction, from_, "to", room, identity,
                            display_name, operator, status, final_status, duration,
                            error_code, error_message)
    VALUES (p_account, p_sid, p_created, p_direction, p_from, p_to, p_room, p_identity,
            p_display_name, p_operator, p_status, CASE WHEN ends THEN p_status ELSE '' END,
            CASE WHEN ends THEN p_duration END, p_error_code, p_error_message)
    ON CONFLICT (account, sid) DO UPDATE SET
        created_at = least(c.created_at, excluded.created_at),
        direction = coalesce(nullif(excluded.direction, ''), c.direction),
        from_ = coalesce(nullif(excluded.from_, ''), c.from_),
        "to" = coalesce(nullif(excluded."to", ''), c."to"),
        room = coalesce(nullif(excluded.room, ''), c.room),
        identity = coalesce(nullif(excluded.identity, ''), c.identity),
        display_name = coalesce(nullif(excluded.display_name, ''), c.display_name),
        operator = coalesce(nullif(excluded.operator, ''), c.operator),
        status = CASE WHEN inserted AND c.final_status = ''
                      AND switchboard_rank(p_status) >= switchboard_rank(c.status)
                      THEN p_status ELSE c.status END,
        final_status = CASE WHEN inserted AND c.final_status = '' AND ends
                            THEN p_status ELSE c.final_status END,
        duration = CASE WHEN inserted AND c.final_status = '' AND ends
                        THEN p_duration ELSE c.duration END,
        error_code = CASE WHEN has_error THEN p_error_code ELSE c.error_code END,
        error_message = CASE WHEN has_error THEN p_error_message ELSE c.error_message END;
    RETURN inserted;
END $$;

-- A status callback from Twilio: recorded, the caller taken off the waiting line if the call
-- ended, and an event for the consoles when anything changed. Returns the event id, or NULL.
CREATE FUNCTION switchboard_status_callback(
    p_account TEXT, p_sid TEXT, p_at TIMESTAMPTZ, p_direction TEXT, p_from TEXT, p_to TEXT,
    p_status TEXT, p_sequence INTEGER, p_duration INTEGER, p_error_code TEXT,
    p_error_message TEXT
) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    is_new BOOLEAN;
    left_waiting BOOLEAN := FALSE;
    row calls%ROWTYPE;
BEGIN
    is_new := switchboard_record_call(p_account, p_sid, p_at, p_direction, p_from, p_to, '',
        '', '', '', p_status, p_sequence, p_duration, p_error_code, p_error_message);
    IF switchboard_rank(p_status) = 3 THEN
        UPDATE waiting SET state = 'gone', ended_at = now()
        WHERE account = p_account AND call_sid = p_sid AND state = 'waiting';
        left_waiting := FOUND;
    END IF;
    IF NOT is_new AND NOT left_waiting THEN
        RETURN NULL;  -- a duplicate callback: consoles already have it
    END IF;
    SELECT * INTO row FROM calls WHERE account = p_account AND sid = p_sid;
    RETURN switchboard_append_event(p_account, 'call.status', jsonb_build_object(
        'sid', p_sid, 'status', p_status, 'sequence', coalesce(p_sequence, -1),
        'duration', p_duration, 'error_code', p_error_code, 'error_message', p_error_message,
        'direction', row.direction, 'from', row.from_, 'to', row."to", 'room', row.room,
        'identity', row.identity, 'operator', row.operator, 'left_waiting', left_waiting));
END $$;
"""

# Schema version 4: a status callback also carries the room and identity of a call the team
# dialed (in its signed status URL), so even the first status names them, and it says whose
# activity may have changed (the operator of a call whose status is new).
FUNCTIONS_V4 = """
DROP FUNCTION switchboard_status_callback(TEXT, TEXT, TIMESTAMPTZ, TEXT, TEXT, TEXT, TEXT,
    INTEGER, INTEGER, TEXT, TEXT);
CREATE FUNCTION switchboard_status_callback(
    p_account TEXT, p_sid TEXT, p_at TIMESTAMPTZ, p_direction TEXT, p_from TEXT, p_to TEXT,
    p_room TEXT, p_identity TEXT, p_status TEXT, p_sequence INTEGER, p_duration INTEGER,
    p_error_code TEXT, p_error_message TEXT, OUT event_id BIGINT, OUT call_operator TEXT
) LANGUAGE plpgsql AS $$
DECLARE
    is_new BOOLEAN;
    left_waiting BOOLEAN := FALSE;
    row calls%ROWTYPE;
BEGIN
    call_operator := '';
    is_new := switchboard_record_call(p_account, p_sid, p_at, p_direction, p_from, p_to,
        p_room, p_identity, '', '', p_status, p_sequence, p_duration, p_error_code,
        p_error_message);
    IF switchboard_rank(p_status) = 3 THEN
        UPDATE waiting SET state = 'gone', ended_at = now()
        WHERE account = p_account AND call_sid = p_sid AND state = 'waiting';
        left_waiting := FOUND;
    END IF;
    IF NOT is_new AND NOT left_waiting THEN
        RETURN;  -- a duplicate callback: consoles already have it
    END IF;
    SELECT * INTO row FROM calls WHERE account = p_account AND sid = p_sid;
    IF is_new THEN
        call_operator := row.operator;
    END IF;
    event_id := switchboard_append_event(p_account, 'call.status', jsonb_build_object(
        'sid', p_sid, 'status', p_status, 'sequence', coalesce(p_sequence, -1),
        'duration', p_duration, 'error_code', p_error_code, 'error_message', p_error_message,
        'direction', row.direction, 'from', row.from_, 'to', row."to", 'room', row.room,
        'identity', row.identity, 'operator', row.operator, 'left_waiting', left_waiting));
END $$;
"""
