using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AiPrompts.Core.Data.Migrations
{
    /// <summary>
    /// A claimed job's state change as one fenced statement: job_transition updates the row only while this worker
    /// holds this attempt's lease, and raises AJ001 (as job_fence does) when it does not, so the writes batched after it
    /// never apply. Before, every completion ran job_fence (a SELECT ... FOR UPDATE) and then the UPDATE of the same row.
    /// </summary>
    public partial class FencedTransition : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE FUNCTION job_transition(p_id uuid, p_attempt integer, p_owner text, p_status text, p_now timestamptz,
                    p_run_after timestamptz, p_give_back integer, p_code text, p_message text, p_args jsonb) RETURNS void
                LANGUAGE plpgsql AS $$
                BEGIN
                    IF p_status = 'queued' THEN
                        UPDATE jobs SET status = 'queued', run_after = p_run_after, lease_owner = NULL, lease_expires_at = NULL,
                            max_attempts = max_attempts + p_give_back, last_error_code = coalesce(p_code, last_error_code),
                            last_error_message = coalesce(p_message, last_error_message), last_error_args = coalesce(p_args, last_error_args),
                            updated_at = p_now
                        WHERE id = p_id AND attempt = p_attempt AND lease_owner = p_owner AND status = 'running';
                    ELSE
                        UPDATE jobs SET status = p_status, finished_at = p_now, lease_owner = NULL, lease_expires_at = NULL,
                            last_error_code = p_code, last_error_message = p_message, last_error_args = p_args, updated_at = p_now
                        WHERE id = p_id AND attempt = p_attempt AND lease_owner = p_owner AND status = 'running';
                    END IF;
                    IF NOT FOUND THEN
                        RAISE EXCEPTION 'job % attempt % is no longer leased by this worker', p_id, p_attempt USING ERRCODE = 'AJ001';
                    END IF;
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION job_transition(uuid, integer, text, text, timestamptz, timestamptz, integer, text, text, jsonb);");
        }
    }
}
