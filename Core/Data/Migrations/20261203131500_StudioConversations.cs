using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AiPrompts.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class StudioConversations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(
                name: "ck_studio_requests_kind",
                table: "studio_requests");

            migrationBuilder.AddColumn<string>(
                name: "intent",
                table: "thread_messages",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "media_file_id",
                table: "thread_messages",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "refined_prompt",
                table: "thread_messages",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "studio_request_id",
                table: "thread_messages",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "studio_status",
                table: "thread_messages",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "image_url",
                table: "studio_requests",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "lang",
                table: "studio_requests",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "message_id",
                table: "studio_requests",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "result",
                table: "studio_requests",
                type: "jsonb",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "style",
                table: "studio_requests",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "topic",
                table: "studio_requests",
                type: "text",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_thread_messages_studio_request",
                table: "thread_messages",
                column: "studio_request_id",
                filter: "studio_request_id IS NOT NULL");

            migrationBuilder.AddCheckConstraint(
                name: "ck_thread_messages_studio_status",
                table: "thread_messages",
                sql: "studio_status IN ('processing', 'done', 'failed')");

            migrationBuilder.AddCheckConstraint(
                name: "ck_studio_requests_kind",
                table: "studio_requests",
                sql: "kind IN ('image_generate', 'prompt_refine', 'chat_reply')");

            migrationBuilder.AddForeignKey(
                name: "studio_requests_message_id_fkey",
                table: "studio_requests",
                column: "message_id",
                principalTable: "thread_messages",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "thread_messages_media_file_id_fkey",
                table: "thread_messages",
                column: "media_file_id",
                principalTable: "media_files",
                principalColumn: "id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "studio_requests_message_id_fkey",
                table: "studio_requests");

            migrationBuilder.DropForeignKey(
                name: "thread_messages_media_file_id_fkey",
                table: "thread_messages");

            migrationBuilder.DropIndex(
                name: "ix_thread_messages_studio_request",
                table: "thread_messages");

            migrationBuilder.DropCheckConstraint(
                name: "ck_thread_messages_studio_status",
                table: "thread_messages");

            migrationBuilder.DropCheckConstraint(
                name: "ck_studio_requests_kind",
                table: "studio_requests");

            migrationBuilder.DropColumn(
                name: "intent",
                table: "thread_messages");

            migrationBuilder.DropColumn(
                name: "media_file_id",
                table: "thread_messages");

            migrationBuilder.DropColumn(
                name: "refined_prompt",
                table: "thread_messages");

            migrationBuilder.DropColumn(
                name: "studio_request_id",
                table: "thread_messages");

            migrationBuilder.DropColumn(
                name: "studio_status",
                table: "thread_messages");

            migrationBuilder.DropColumn(
                name: "image_url",
                table: "studio_requests");

            migrationBuilder.DropColumn(
                name: "lang",
                table: "studio_requests");

            migrationBuilder.DropColumn(
                name: "message_id",
                table: "studio_requests");

            migrationBuilder.DropColumn(
                name: "result",
                table: "studio_requests");

            migrationBuilder.DropColumn(
                name: "style",
                table: "studio_requests");

            migrationBuilder.DropColumn(
                name: "topic",
                table: "studio_requests");

            migrationBuilder.AddCheckConstraint(
                name: "ck_studio_requests_kind",
                table: "studio_requests",
                sql: "kind IN ('image_generate')");
        }
    }
}
