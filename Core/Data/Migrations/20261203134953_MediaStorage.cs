using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AiPrompts.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class MediaStorage : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "storage",
                table: "media_files",
                type: "text",
                nullable: false,
                defaultValue: "postgres");

            migrationBuilder.AddCheckConstraint(
                name: "ck_media_files_storage",
                table: "media_files",
                sql: "storage IN ('postgres', 's3')");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(
                name: "ck_media_files_storage",
                table: "media_files");

            migrationBuilder.DropColumn(
                name: "storage",
                table: "media_files");
        }
    }
}
