-- The durable job engine, prompt requests and their responses, and usage rows.

-- One row per unit of background work. status is the one state machine every API surface maps to its
-- own words. attempt counts claims; a worker may finish a job only while attempt and lease_owner
-- still match its claim (see job_fence), so a worker that lost its lease cannot overwrite a result.
CREATE TABLE jobs (
    id                  uuid        PRIMARY KEY,
    kind                text        NOT NULL,
    subject_id          uuid        NOT NULL,
    status              text        NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempt             integer     NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts        integer     NOT NULL CHECK (max_attempts >= 1),
    run_after           timestamptz NOT NULL,
    lease_owner         text        NULL,
    lease_expires_at    timestamptz NULL,
    cancel_requested    boolean     NOT NULL DEFAULT false,
    last_error_code     text        NULL,
    last_error_message  text        NULL,
    last_error_args     jsonb       NULL,
    created_at          timestamptz NOT NULL,
    started_at          timestamptz NULL,
    finished_at         timestamptz NULL,
    updated_at          timestamptz NOT NULL,
    CONSTRAINT ck_jobs_lease CHECK ((status = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
);
-- What a claim reads: queued work that is due, and running work whose lease expired (rescue).
CREATE INDEX ix_jobs_queued ON jobs (run_after) WHERE status = 'queued';
CREATE INDEX ix_jobs_running ON jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX ix_jobs_subject ON jobs (subject_id);

-- Raises (SQLSTATE AJ001) unless the caller still holds the job's lease for this attempt. Placed first
-- in the batch that finishes a job, it makes the whole batch (result, response, usage) all or nothing.
CREATE FUNCTION job_fence(p_id uuid, p_attempt integer, p_owner text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM jobs WHERE id = p_id AND attempt = p_attempt AND lease_owner = p_owner AND status = 'running' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % attempt % is no longer leased by this worker', p_id, p_attempt USING ERRCODE = 'AJ001';
    END IF;
END $$;

-- Prompt requests (REQUIREMENTS §A): who, when, why; the status lives on the job.
-- prompt_text is NULL once the job has ended when store = false.
CREATE TABLE prompt_requests (
    id               uuid        PRIMARY KEY,
    user_id          uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    job_id           uuid        NOT NULL UNIQUE REFERENCES jobs (id),
    prompt_type      text        NOT NULL,
    section          text        NOT NULL,
    provider_id      text        NOT NULL,
    model_id         text        NOT NULL,
    prompt_text      text        NULL,
    purpose_code     text        NULL,
    purpose_text     text        NULL,
    metadata         jsonb       NULL,
    store            boolean     NOT NULL,
    idempotency_key  text        NULL,
    request_hash     bytea       NULL,
    created_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX ux_prompt_requests_idempotency ON prompt_requests (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX ix_prompt_requests_user ON prompt_requests (user_id, created_at DESC, id DESC);
CREATE INDEX ix_prompt_requests_created ON prompt_requests (created_at DESC, id DESC);

-- At most one response per request. response_text is NULL when the request is not stored.
CREATE TABLE prompt_responses (
    id                 uuid          PRIMARY KEY,
    prompt_request_id  uuid          NOT NULL UNIQUE REFERENCES prompt_requests (id) ON DELETE CASCADE,
    response_text      text          NULL,
    finish_reason      text          NULL,
    input_tokens       bigint        NOT NULL,
    output_tokens      bigint        NOT NULL,
    cost               numeric(18,8) NULL,
    duration_ms        integer       NOT NULL,
    attempt            integer       NOT NULL,
    created_at         timestamptz   NOT NULL
);

-- One row per attempt that called a vendor, written with the attempt's outcome. Kept whatever `store` says.
CREATE TABLE usage_events (
    id             uuid          PRIMARY KEY,
    user_id        uuid          NULL REFERENCES users (id) ON DELETE SET NULL,
    job_id         uuid          NULL,
    attempt        integer       NULL,
    subject_type   text          NOT NULL,
    subject_id     uuid          NULL,
    section        text          NOT NULL,
    provider_id    text          NOT NULL,
    model_id       text          NOT NULL,
    key_source     text          NOT NULL CHECK (key_source IN ('none', 'personal', 'shared')),
    input_tokens   bigint        NOT NULL,
    output_tokens  bigint        NOT NULL,
    cost           numeric(18,8) NULL,
    vendor_cost    numeric(18,8) NULL,
    duration_ms    integer       NOT NULL,
    status         text          NOT NULL CHECK (status IN ('succeeded', 'failed', 'cancelled', 'interrupted')),
    error_code     text          NULL,
    created_at     timestamptz   NOT NULL
);
CREATE UNIQUE INDEX ux_usage_events_attempt ON usage_events (job_id, attempt) WHERE job_id IS NOT NULL;
CREATE INDEX ix_usage_events_user ON usage_events (user_id, created_at DESC);
CREATE INDEX ix_usage_events_created ON usage_events (created_at DESC);
