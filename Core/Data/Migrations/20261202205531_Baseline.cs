using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AiPrompts.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class Baseline : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "jobs",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "text", nullable: false),
                    subject_id = table.Column<Guid>(type: "uuid", nullable: false),
                    status = table.Column<string>(type: "text", nullable: false),
                    attempt = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    max_attempts = table.Column<int>(type: "integer", nullable: false),
                    run_after = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    lease_owner = table.Column<string>(type: "text", nullable: true),
                    lease_expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    cancel_requested = table.Column<bool>(type: "boolean", nullable: false, defaultValue: false),
                    last_error_code = table.Column<string>(type: "text", nullable: true),
                    last_error_message = table.Column<string>(type: "text", nullable: true),
                    last_error_args = table.Column<string>(type: "jsonb", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("jobs_pkey", x => x.id);
                    table.CheckConstraint("ck_jobs_lease", "(status = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)");
                    table.CheckConstraint("jobs_attempt_check", "attempt >= 0");
                    table.CheckConstraint("jobs_max_attempts_check", "max_attempts >= 1");
                    table.CheckConstraint("jobs_status_check", "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')");
                });

            migrationBuilder.CreateTable(
                name: "prompt_templates",
                columns: table => new
                {
                    prompt_type = table.Column<string>(type: "text", nullable: false),
                    description = table.Column<string>(type: "text", nullable: true),
                    section = table.Column<string>(type: "text", nullable: false),
                    required_placeholders = table.Column<List<string>>(type: "text[]", nullable: false, defaultValueSql: "'{}'::text[]"),
                    allowed_variables = table.Column<List<string>>(type: "text[]", nullable: false, defaultValueSql: "'{}'::text[]"),
                    output_schema = table.Column<string>(type: "jsonb", nullable: true),
                    next_version = table.Column<int>(type: "integer", nullable: false, defaultValue: 1),
                    revision = table.Column<long>(type: "bigint", nullable: false, defaultValue: 0L),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("prompt_templates_pkey", x => x.prompt_type);
                    table.CheckConstraint("ck_prompt_templates_required_allowed", "required_placeholders <@ allowed_variables");
                    table.CheckConstraint("prompt_templates_description_check", "char_length(description) <= 2000");
                    table.CheckConstraint("prompt_templates_next_version_check", "next_version >= 1");
                    table.CheckConstraint("prompt_templates_prompt_type_check", "prompt_type ~ '^[a-z][a-z0-9_]{1,63}$'");
                    table.CheckConstraint("prompt_templates_section_check", "section IN ('chat', 'content')");
                });

            migrationBuilder.CreateTable(
                name: "providers",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    display_name = table.Column<string>(type: "text", nullable: false),
                    kind = table.Column<string>(type: "text", nullable: false),
                    base_url = table.Column<string>(type: "text", nullable: true),
                    is_custom = table.Column<bool>(type: "boolean", nullable: false, defaultValue: false),
                    retired = table.Column<bool>(type: "boolean", nullable: false, defaultValue: false),
                    enabled_default = table.Column<bool>(type: "boolean", nullable: false),
                    enabled_override = table.Column<bool>(type: "boolean", nullable: true),
                    shared_key_enabled = table.Column<bool>(type: "boolean", nullable: false, defaultValue: true),
                    shared_allow_admins = table.Column<bool>(type: "boolean", nullable: false, defaultValue: false),
                    shared_allow_users = table.Column<bool>(type: "boolean", nullable: false, defaultValue: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("providers_pkey", x => x.id);
                    table.CheckConstraint("providers_id_check", "id ~ '^[a-z0-9][a-z0-9-]{1,39}$'");
                    table.CheckConstraint("providers_kind_check", "kind IN ('openai_compatible', 'anthropic', 'huggingface', 'local')");
                });

            migrationBuilder.CreateTable(
                name: "users",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    email = table.Column<string>(type: "text", nullable: false),
                    display_name = table.Column<string>(type: "text", nullable: false),
                    password_hash = table.Column<string>(type: "text", nullable: false),
                    role = table.Column<string>(type: "text", nullable: false),
                    is_disabled = table.Column<bool>(type: "boolean", nullable: false, defaultValue: false),
                    security_stamp = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    last_login_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("users_pkey", x => x.id);
                    table.CheckConstraint("ck_users_email_normalized", "email = lower(btrim(email))");
                    table.CheckConstraint("users_role_check", "role IN ('super_admin', 'admin', 'user')");
                });

            migrationBuilder.CreateTable(
                name: "ai_models",
                columns: table => new
                {
                    provider_id = table.Column<string>(type: "text", nullable: false),
                    model_id = table.Column<string>(type: "text", nullable: false),
                    display_name = table.Column<string>(type: "text", nullable: false),
                    capabilities = table.Column<string[]>(type: "text[]", nullable: false),
                    capabilities_override = table.Column<string[]>(type: "text[]", nullable: true),
                    context_size = table.Column<int>(type: "integer", nullable: true),
                    input_price = table.Column<decimal>(type: "numeric(14,6)", precision: 14, scale: 6, nullable: true),
                    output_price = table.Column<decimal>(type: "numeric(14,6)", precision: 14, scale: 6, nullable: true),
                    input_price_override = table.Column<decimal>(type: "numeric(14,6)", precision: 14, scale: 6, nullable: true),
                    output_price_override = table.Column<decimal>(type: "numeric(14,6)", precision: 14, scale: 6, nullable: true),
                    enabled_override = table.Column<bool>(type: "boolean", nullable: true),
                    retired = table.Column<bool>(type: "boolean", nullable: false, defaultValue: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("ai_models_pkey", x => new { x.provider_id, x.model_id });
                    table.CheckConstraint("ai_models_model_id_check", "length(model_id) BETWEEN 1 AND 200");
                    table.ForeignKey(
                        name: "ai_models_provider_id_fkey",
                        column: x => x.provider_id,
                        principalTable: "providers",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "api_keys",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "text", nullable: false),
                    prefix = table.Column<string>(type: "text", nullable: false),
                    key_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    revoked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("api_keys_pkey", x => x.id);
                    table.ForeignKey(
                        name: "api_keys_user_id_fkey",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "audit_logs",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    actor_user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    action = table.Column<string>(type: "text", nullable: false),
                    entity_type = table.Column<string>(type: "text", nullable: false),
                    entity_id = table.Column<string>(type: "text", nullable: true),
                    before = table.Column<string>(type: "jsonb", nullable: true),
                    after = table.Column<string>(type: "jsonb", nullable: true),
                    trace_id = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("audit_logs_pkey", x => x.id);
                    table.ForeignKey(
                        name: "audit_logs_actor_user_id_fkey",
                        column: x => x.actor_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "prompt_requests",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    prompt_type = table.Column<string>(type: "text", nullable: false),
                    section = table.Column<string>(type: "text", nullable: false),
                    provider_id = table.Column<string>(type: "text", nullable: false),
                    model_id = table.Column<string>(type: "text", nullable: false),
                    prompt_text = table.Column<string>(type: "text", nullable: true),
                    purpose_code = table.Column<string>(type: "text", nullable: true),
                    purpose_text = table.Column<string>(type: "text", nullable: true),
                    metadata = table.Column<string>(type: "jsonb", nullable: true),
                    store = table.Column<bool>(type: "boolean", nullable: false),
                    idempotency_key = table.Column<string>(type: "text", nullable: true),
                    request_hash = table.Column<byte[]>(type: "bytea", nullable: true),
                    template_version = table.Column<int>(type: "integer", nullable: true),
                    sandbox = table.Column<bool>(type: "boolean", nullable: false, defaultValue: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("prompt_requests_pkey", x => x.id);
                    table.UniqueConstraint("prompt_requests_job_id_key", x => x.job_id);
                    table.CheckConstraint("ck_prompt_requests_sandbox", "NOT sandbox OR template_version IS NOT NULL");
                    table.ForeignKey(
                        name: "prompt_requests_job_id_fkey",
                        column: x => x.job_id,
                        principalTable: "jobs",
                        principalColumn: "id");
                    table.ForeignKey(
                        name: "prompt_requests_user_id_fkey",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "prompt_template_versions",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    prompt_type = table.Column<string>(type: "text", nullable: false),
                    version_number = table.Column<int>(type: "integer", nullable: false),
                    template = table.Column<string>(type: "text", nullable: false),
                    is_active = table.Column<bool>(type: "boolean", nullable: false, defaultValue: false),
                    test_result_json = table.Column<string>(type: "jsonb", nullable: true),
                    manual_note = table.Column<string>(type: "text", nullable: true),
                    last_tested_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    activated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    created_by = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("prompt_template_versions_pkey", x => x.id);
                    table.UniqueConstraint("ux_prompt_template_versions_number", x => new { x.prompt_type, x.version_number });
                    table.CheckConstraint("prompt_template_versions_manual_note_check", "char_length(manual_note) <= 2000");
                    table.CheckConstraint("prompt_template_versions_version_number_check", "version_number >= 1");
                    table.ForeignKey(
                        name: "prompt_template_versions_created_by_fkey",
                        column: x => x.created_by,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "prompt_template_versions_prompt_type_fkey",
                        column: x => x.prompt_type,
                        principalTable: "prompt_templates",
                        principalColumn: "prompt_type");
                });

            migrationBuilder.CreateTable(
                name: "provider_keys",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    provider_id = table.Column<string>(type: "text", nullable: false),
                    owner_user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    ciphertext = table.Column<byte[]>(type: "bytea", nullable: false),
                    wrapped_key = table.Column<byte[]>(type: "bytea", nullable: false),
                    master_key_version = table.Column<int>(type: "integer", nullable: false),
                    last_four = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_by = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("provider_keys_pkey", x => x.id);
                    table.ForeignKey(
                        name: "provider_keys_owner_user_id_fkey",
                        column: x => x.owner_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "provider_keys_provider_id_fkey",
                        column: x => x.provider_id,
                        principalTable: "providers",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "provider_keys_updated_by_fkey",
                        column: x => x.updated_by,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "usage_events",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    job_id = table.Column<Guid>(type: "uuid", nullable: true),
                    attempt = table.Column<int>(type: "integer", nullable: true),
                    subject_type = table.Column<string>(type: "text", nullable: false),
                    subject_id = table.Column<Guid>(type: "uuid", nullable: true),
                    section = table.Column<string>(type: "text", nullable: false),
                    provider_id = table.Column<string>(type: "text", nullable: false),
                    model_id = table.Column<string>(type: "text", nullable: false),
                    key_source = table.Column<string>(type: "text", nullable: false),
                    input_tokens = table.Column<long>(type: "bigint", nullable: false),
                    output_tokens = table.Column<long>(type: "bigint", nullable: false),
                    cost = table.Column<decimal>(type: "numeric(18,8)", precision: 18, scale: 8, nullable: true),
                    vendor_cost = table.Column<decimal>(type: "numeric(18,8)", precision: 18, scale: 8, nullable: true),
                    duration_ms = table.Column<int>(type: "integer", nullable: false),
                    status = table.Column<string>(type: "text", nullable: false),
                    error_code = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("usage_events_pkey", x => x.id);
                    table.CheckConstraint("usage_events_key_source_check", "key_source IN ('none', 'personal', 'shared')");
                    table.CheckConstraint("usage_events_status_check", "status IN ('succeeded', 'failed', 'cancelled', 'interrupted')");
                    table.ForeignKey(
                        name: "usage_events_user_id_fkey",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "sections",
                columns: table => new
                {
                    name = table.Column<string>(type: "text", nullable: false),
                    provider_id = table.Column<string>(type: "text", nullable: false),
                    model_id = table.Column<string>(type: "text", nullable: false),
                    store_by_default = table.Column<bool>(type: "boolean", nullable: false, defaultValue: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_by = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("sections_pkey", x => x.name);
                    table.CheckConstraint("sections_name_check", "name IN ('chat', 'content', 'image', 'audio')");
                    table.ForeignKey(
                        name: "sections_provider_id_model_id_fkey",
                        columns: x => new { x.provider_id, x.model_id },
                        principalTable: "ai_models",
                        principalColumns: new[] { "provider_id", "model_id" });
                    table.ForeignKey(
                        name: "sections_updated_by_fkey",
                        column: x => x.updated_by,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "prompt_responses",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    prompt_request_id = table.Column<Guid>(type: "uuid", nullable: false),
                    response_text = table.Column<string>(type: "text", nullable: true),
                    finish_reason = table.Column<string>(type: "text", nullable: true),
                    input_tokens = table.Column<long>(type: "bigint", nullable: false),
                    output_tokens = table.Column<long>(type: "bigint", nullable: false),
                    cost = table.Column<decimal>(type: "numeric(18,8)", precision: 18, scale: 8, nullable: true),
                    duration_ms = table.Column<int>(type: "integer", nullable: false),
                    attempt = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("prompt_responses_pkey", x => x.id);
                    table.UniqueConstraint("prompt_responses_prompt_request_id_key", x => x.prompt_request_id);
                    table.ForeignKey(
                        name: "prompt_responses_prompt_request_id_fkey",
                        column: x => x.prompt_request_id,
                        principalTable: "prompt_requests",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_api_keys_user_id",
                table: "api_keys",
                columns: new[] { "user_id", "created_at" },
                descending: new[] { false, true });

            migrationBuilder.CreateIndex(
                name: "ux_api_keys_key_hash",
                table: "api_keys",
                column: "key_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_audit_logs_created_at",
                table: "audit_logs",
                columns: new[] { "created_at", "id" },
                descending: new bool[0]);

            migrationBuilder.CreateIndex(
                name: "ix_audit_logs_entity",
                table: "audit_logs",
                columns: new[] { "entity_type", "entity_id" });

            migrationBuilder.CreateIndex(
                name: "ix_jobs_queued",
                table: "jobs",
                column: "run_after",
                filter: "status = 'queued'");

            migrationBuilder.CreateIndex(
                name: "ix_jobs_running",
                table: "jobs",
                column: "lease_expires_at",
                filter: "status = 'running'");

            migrationBuilder.CreateIndex(
                name: "ix_jobs_subject",
                table: "jobs",
                column: "subject_id");

            migrationBuilder.CreateIndex(
                name: "ix_prompt_requests_created",
                table: "prompt_requests",
                columns: new[] { "created_at", "id" },
                descending: new bool[0]);

            migrationBuilder.CreateIndex(
                name: "ix_prompt_requests_user",
                table: "prompt_requests",
                columns: new[] { "user_id", "created_at", "id" },
                descending: new[] { false, true, true });

            migrationBuilder.CreateIndex(
                name: "ux_prompt_requests_idempotency",
                table: "prompt_requests",
                columns: new[] { "user_id", "idempotency_key" },
                unique: true,
                filter: "idempotency_key IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ux_prompt_template_versions_one_active",
                table: "prompt_template_versions",
                column: "prompt_type",
                unique: true,
                filter: "is_active");

            migrationBuilder.CreateIndex(
                name: "ix_provider_keys_owner",
                table: "provider_keys",
                column: "owner_user_id",
                filter: "owner_user_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ux_provider_keys_personal",
                table: "provider_keys",
                columns: new[] { "provider_id", "owner_user_id" },
                unique: true,
                filter: "owner_user_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ux_provider_keys_shared",
                table: "provider_keys",
                column: "provider_id",
                unique: true,
                filter: "owner_user_id IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_usage_events_created",
                table: "usage_events",
                column: "created_at",
                descending: new bool[0]);

            migrationBuilder.CreateIndex(
                name: "ix_usage_events_user",
                table: "usage_events",
                columns: new[] { "user_id", "created_at" },
                descending: new[] { false, true });

            migrationBuilder.CreateIndex(
                name: "ux_usage_events_attempt",
                table: "usage_events",
                columns: new[] { "job_id", "attempt" },
                unique: true,
                filter: "job_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ux_users_email",
                table: "users",
                column: "email",
                unique: true);

            // What the model cannot say. Raises (SQLSTATE AJ001) unless the caller still holds the job's lease
            // for this attempt. Placed first in the batch that finishes a job, it makes the whole batch (result,
            // response, usage) all or nothing.
            migrationBuilder.Sql("""
                CREATE FUNCTION job_fence(p_id uuid, p_attempt integer, p_owner text) RETURNS void
                LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM 1 FROM jobs WHERE id = p_id AND attempt = p_attempt AND lease_owner = p_owner AND status = 'running' FOR UPDATE;
                    IF NOT FOUND THEN
                        RAISE EXCEPTION 'job % attempt % is no longer leased by this worker', p_id, p_attempt USING ERRCODE = 'AJ001';
                    END IF;
                END $$;
                """);

            // The contract's type: OCR extraction, which requires {{ocr_text}} and returns an object of 8 fields.
            migrationBuilder.Sql("""
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
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION job_fence(uuid, integer, text);");

            migrationBuilder.DropTable(
                name: "api_keys");

            migrationBuilder.DropTable(
                name: "audit_logs");

            migrationBuilder.DropTable(
                name: "prompt_responses");

            migrationBuilder.DropTable(
                name: "prompt_template_versions");

            migrationBuilder.DropTable(
                name: "provider_keys");

            migrationBuilder.DropTable(
                name: "sections");

            migrationBuilder.DropTable(
                name: "usage_events");

            migrationBuilder.DropTable(
                name: "prompt_requests");

            migrationBuilder.DropTable(
                name: "prompt_templates");

            migrationBuilder.DropTable(
                name: "ai_models");

            migrationBuilder.DropTable(
                name: "jobs");

            migrationBuilder.DropTable(
                name: "users");

            migrationBuilder.DropTable(
                name: "providers");
        }
    }
}
