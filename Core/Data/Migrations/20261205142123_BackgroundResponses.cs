using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AiPrompts.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class BackgroundResponses : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "job_id",
                table: "gateway_responses",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "purpose",
                table: "gateway_responses",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "request",
                table: "gateway_responses",
                type: "jsonb",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "run_context",
                table: "gateway_responses",
                type: "jsonb",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "job_id",
                table: "gateway_responses");

            migrationBuilder.DropColumn(
                name: "purpose",
                table: "gateway_responses");

            migrationBuilder.DropColumn(
                name: "request",
                table: "gateway_responses");

            migrationBuilder.DropColumn(
                name: "run_context",
                table: "gateway_responses");
        }
    }
}
