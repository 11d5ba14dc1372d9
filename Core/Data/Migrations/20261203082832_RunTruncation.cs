using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AiPrompts.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class RunTruncation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "last_messages",
                table: "assistant_runs",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "max_prompt_tokens",
                table: "assistant_runs",
                type: "integer",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "last_messages",
                table: "assistant_runs");

            migrationBuilder.DropColumn(
                name: "max_prompt_tokens",
                table: "assistant_runs");
        }
    }
}
