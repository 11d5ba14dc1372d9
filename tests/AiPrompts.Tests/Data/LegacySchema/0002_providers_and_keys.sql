-- Vendors, their models, the four sections and the encrypted vendor keys.
-- Catalogue columns are written by the populate step; *_override columns only by a super admin, and
-- the populate step never touches them.
CREATE TABLE providers (
    id                   text        PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,39}$'),
    display_name         text        NOT NULL,
    kind                 text        NOT NULL CHECK (kind IN ('openai_compatible', 'anthropic', 'huggingface', 'local')),
    base_url             text        NULL,
    is_custom            boolean     NOT NULL DEFAULT false,
    retired              boolean     NOT NULL DEFAULT false,
    enabled_default      boolean     NOT NULL,
    enabled_override     boolean     NULL,
    shared_key_enabled   boolean     NOT NULL DEFAULT true,
    shared_allow_admins  boolean     NOT NULL DEFAULT false,
    shared_allow_users   boolean     NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);

CREATE TABLE ai_models (
    provider_id            text          NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    model_id               text          NOT NULL CHECK (length(model_id) BETWEEN 1 AND 200),
    display_name           text          NOT NULL,
    capabilities           text[]        NOT NULL,
    capabilities_override  text[]        NULL,
    context_size           integer       NULL,
    input_price            numeric(14,6) NULL,
    output_price           numeric(14,6) NULL,
    input_price_override   numeric(14,6) NULL,
    output_price_override  numeric(14,6) NULL,
    enabled_override       boolean       NULL,
    retired                boolean       NOT NULL DEFAULT false,
    created_at             timestamptz   NOT NULL,
    updated_at             timestamptz   NOT NULL,
    PRIMARY KEY (provider_id, model_id)
);

CREATE TABLE sections (
    name              text        PRIMARY KEY CHECK (name IN ('chat', 'content', 'image', 'audio')),
    provider_id       text        NOT NULL,
    model_id          text        NOT NULL,
    store_by_default  boolean     NOT NULL DEFAULT false,
    updated_at        timestamptz NOT NULL,
    updated_by        uuid        NULL REFERENCES users (id) ON DELETE SET NULL,
    FOREIGN KEY (provider_id, model_id) REFERENCES ai_models (provider_id, model_id)
);

-- owner_user_id NULL is the provider's shared key; otherwise the owner's personal key.
-- ciphertext = nonce | AES-256-GCM(data key, secret) | tag; wrapped_key = nonce | AES-256-GCM(master key, data key) | tag.
-- Both are bound to the row (id, provider, owner) through associated data.
CREATE TABLE provider_keys (
    id                  uuid        PRIMARY KEY,
    provider_id         text        NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    owner_user_id       uuid        NULL REFERENCES users (id) ON DELETE CASCADE,
    ciphertext          bytea       NOT NULL,
    wrapped_key         bytea       NOT NULL,
    master_key_version  integer     NOT NULL,
    last_four           text        NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    updated_by          uuid        NULL REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX ux_provider_keys_shared ON provider_keys (provider_id) WHERE owner_user_id IS NULL;
CREATE UNIQUE INDEX ux_provider_keys_personal ON provider_keys (provider_id, owner_user_id) WHERE owner_user_id IS NOT NULL;
CREATE INDEX ix_provider_keys_owner ON provider_keys (owner_user_id) WHERE owner_user_id IS NOT NULL;
