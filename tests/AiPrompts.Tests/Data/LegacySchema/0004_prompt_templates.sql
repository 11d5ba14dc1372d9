-- Versioned prompt templates (REQUIREMENTS §B, contracts/prompt-versions.openapi.yaml, ADR-029).

-- A prompt type as data: the placeholders every template of it must contain, the variables a template
-- may use, and the JSON schema its output must satisfy (optional). next_version hands out version
-- numbers: it is incremented in the transaction that inserts the version, so a rollback gives the
-- number back and concurrent creates queue on the row (no gaps, no duplicates). revision grows with
-- every activation and every change of the type's rules; cached copies of the active version carry it,
-- so an older copy can never overwrite a newer one.
CREATE TABLE prompt_templates (
    prompt_type            text        PRIMARY KEY CHECK (prompt_type ~ '^[a-z][a-z0-9_]{1,63}$'),
    description            text        NULL CHECK (char_length(description) <= 2000),
    section                text        NOT NULL CHECK (section IN ('chat', 'content')),
    required_placeholders  text[]      NOT NULL DEFAULT '{}',
    allowed_variables      text[]      NOT NULL DEFAULT '{}',
    output_schema          jsonb       NULL,
    next_version           integer     NOT NULL DEFAULT 1 CHECK (next_version >= 1),
    revision               bigint      NOT NULL DEFAULT 0,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    CONSTRAINT ck_prompt_templates_required_allowed CHECK (required_placeholders <@ allowed_variables)
);

CREATE TABLE prompt_template_versions (
    id                uuid        PRIMARY KEY,
    prompt_type       text        NOT NULL REFERENCES prompt_templates (prompt_type),
    version_number    integer     NOT NULL CHECK (version_number >= 1),
    template          text        NOT NULL,
    is_active         boolean     NOT NULL DEFAULT false,
    test_result_json  jsonb       NULL,
    manual_note       text        NULL CHECK (char_length(manual_note) <= 2000),
    last_tested_at    timestamptz NULL,
    activated_at      timestamptz NULL,
    created_by        uuid        NULL REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL,
    CONSTRAINT ux_prompt_template_versions_number UNIQUE (prompt_type, version_number)
);
-- Exactly one active version per type, enforced by the database.
CREATE UNIQUE INDEX ux_prompt_template_versions_one_active ON prompt_template_versions (prompt_type) WHERE is_active;

-- A prompt request made from a template version (run or sandbox test) records which one. No foreign
-- key: a deleted version's number is never handed out again, so (prompt_type, template_version) stays
-- unambiguous in the history, with the audit log holding the deleted template.
ALTER TABLE prompt_requests
    ADD COLUMN template_version integer NULL,
    ADD COLUMN sandbox boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT ck_prompt_requests_sandbox CHECK (NOT sandbox OR template_version IS NOT NULL);

-- The contract's type: OCR extraction, which requires {{ocr_text}} and returns an object of 8 fields.
INSERT INTO prompt_templates (prompt_type, description, section, required_placeholders, allowed_variables, output_schema, created_at, updated_at)
VALUES (
    'ocr_extraction',
    'Extracts the key fields of a scanned business document from its OCR text.',
    'content',
    ARRAY['ocr_text'],
    ARRAY['ocr_text', 'document_hint', 'language'],
    '{
      "type": "object",
      "additionalProperties": false,
      "required": ["documentType", "documentNumber", "documentDate", "issuerName", "issuerTaxId", "recipientName", "totalAmount", "currency"],
      "properties": {
        "documentType":   {"type": ["string", "null"]},
        "documentNumber": {"type": ["string", "null"]},
        "documentDate":   {"type": ["string", "null"]},
        "issuerName":     {"type": ["string", "null"]},
        "issuerTaxId":    {"type": ["string", "null"]},
        "recipientName":  {"type": ["string", "null"]},
        "totalAmount":    {"type": ["number", "null"]},
        "currency":       {"type": ["string", "null"]}
      }
    }'::jsonb,
    now(), now());
