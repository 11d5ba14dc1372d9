using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AiPrompts.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class AssistantToolCalls : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(
                name: "ck_assistant_runs_status",
                table: "assistant_runs");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "expires_at",
                table: "assistant_runs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "required_action",
                table: "assistant_runs",
                type: "jsonb",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "tool_rounds",
                table: "assistant_runs",
                type: "jsonb",
                nullable: true);

            migrationBuilder.AddCheckConstraint(
                name: "ck_assistant_runs_status",
                table: "assistant_runs",
                sql: "status IN ('queued', 'completed', 'incomplete', 'requires_action')");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(
                name: "ck_assistant_runs_status",
                table: "assistant_runs");

            migrationBuilder.DropColumn(
                name: "expires_at",
                table: "assistant_runs");

            migrationBuilder.DropColumn(
                name: "required_action",
                table: "assistant_runs");

            migrationBuilder.DropColumn(
                name: "tool_rounds",
                table: "assistant_runs");

            migrationBuilder.AddCheckConstraint(
                name: "ck_assistant_runs_status",
                table: "assistant_runs",
                sql: "status IN ('queued', 'completed', 'incomplete')");
        }
    }
}
