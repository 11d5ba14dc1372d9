using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AiPrompts.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class Media : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "media_files",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    owner_user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    content_type = table.Column<string>(type: "text", nullable: false),
                    width = table.Column<int>(type: "integer", nullable: false),
                    height = table.Column<int>(type: "integer", nullable: false),
                    length = table.Column<long>(type: "bigint", nullable: false),
                    origin = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("media_files_pkey", x => x.id);
                    table.CheckConstraint("ck_media_files_origin", "origin IN ('upload', 'generated')");
                    table.CheckConstraint("ck_media_files_type", "content_type IN ('image/png', 'image/jpeg', 'image/webp')");
                    table.ForeignKey(
                        name: "media_files_owner_user_id_fkey",
                        column: x => x.owner_user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "media_contents",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    bytes = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("media_contents_pkey", x => x.id);
                    table.ForeignKey(
                        name: "media_contents_id_fkey",
                        column: x => x.id,
                        principalTable: "media_files",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            // Images are compressed already: kept out of line, not compressed again.
            migrationBuilder.Sql("ALTER TABLE media_contents ALTER COLUMN bytes SET STORAGE EXTERNAL;");

            migrationBuilder.CreateIndex(
                name: "ix_media_files_expires",
                table: "media_files",
                column: "expires_at",
                filter: "expires_at IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_media_files_owner",
                table: "media_files",
                columns: new[] { "owner_user_id", "created_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "media_contents");

            migrationBuilder.DropTable(
                name: "media_files");
        }
    }
}
