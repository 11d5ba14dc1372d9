using System.Net.ServerSentEvents;
using AiPrompts.Web.Playground;

namespace AiPrompts.Web.ComponentTests;

/// <summary>The playground's stream readers (a chat completion's chunks, an assistant run's events) and the conversation they fill.</summary>
public sealed class PlaygroundStreamTests : ConsoleComponents
{
    [Fact]
    public void A_streamed_chunk_gives_its_text_and_the_last_one_the_usage()
    {
        Assert.Equal(("Hel", null), ChatChunks.Read("""{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"""));
        Assert.Equal(("", null), ChatChunks.Read("""{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"""));
        Assert.Equal(("", new ChatUsage(7, 43)), ChatChunks.Read("""{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":43,"total_tokens":50}}"""));
    }

    [Fact]
    public void A_runs_events_give_its_thread_its_status_the_answers_pieces_and_at_the_end_its_usage()
    {
        var created = RunEvents.Read(new SseItem<string>("""{"id":"run_1","object":"thread.run","thread_id":"thread_9","status":"queued","usage":null,"last_error":null}""", "thread.run.created"));
        Assert.Equal(new RunEvent("thread_9", "run_1", "", "queued", null, null), created);
        Assert.False(created.HasEnded);

        // A step or a message object is the run's progress, not the run: it changes nothing the page keeps.
        Assert.Equal(new RunEvent(null, null, "", null, null, null),
            RunEvents.Read(new SseItem<string>("""{"id":"step_1","object":"thread.run.step","thread_id":"thread_9","status":"in_progress"}""", "thread.run.step.created")));
        Assert.Equal(new RunEvent(null, null, "", null, null, null),
            RunEvents.Read(new SseItem<string>("""{"id":"msg_1","object":"thread.message","thread_id":"thread_9","status":"in_progress"}""", "thread.message.created")));

        Assert.Equal("Sal", RunEvents.Read(new SseItem<string>("""{"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":"Sal"}}]}}""", "thread.message.delta")).Text);

        var completed = RunEvents.Read(new SseItem<string>("""{"id":"run_1","thread_id":"thread_9","status":"completed","usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42},"last_error":null}""", "thread.run.completed"));
        Assert.Equal(new ChatUsage(12, 30), completed.Usage);
        Assert.True(completed.HasEnded);
    }

    [Fact]
    public void A_failed_run_and_a_failed_stream_say_why_in_the_Apis_words()
    {
        var failed = RunEvents.Read(new SseItem<string>("""{"id":"run_1","thread_id":"thread_9","status":"failed","usage":null,"last_error":{"code":"server_error","message":"The vendor did not answer."}}""", "thread.run.failed"));
        Assert.Equal(("failed", "The vendor did not answer."), (failed.Status, failed.Error));
        Assert.True(failed.HasEnded);

        // The stream's own error: the text for people and what to do, when the Api gives them.
        var error = RunEvents.Read(new SseItem<string>("""{"error":{"message":"Service Unavailable","type":"server_error","code":"service_unavailable","user_message":"The service is busy.","recovery_action":"Try again in a minute."}}""", "error"));
        Assert.Equal("The service is busy. Try again in a minute.", error.Error);
        Assert.Equal("Bad input.", RunEvents.Read(new SseItem<string>("""{"error":{"message":"Bad input."}}""", "error")).Error);
        Assert.True(RunEvents.Read(new SseItem<string>("""{"id":"run_1","status":"requires_action"}""", "thread.run.requires_action")).HasEnded);
    }

    [Fact]
    public void The_conversation_names_who_answers_and_while_a_run_streams_where_it_stands()
    {
        var turns = Render<ChatTurns>(p => p
            .Add(c => c.Turns, [new ChatTurn("user", "Plan a day in Isfahan"), new ChatTurn("assistant", "Start at Naqsh-e Jahan.")])
            .Add(c => c.Answerer, "Trip planner")
            .Add(c => c.Streaming, true)
            .Add(c => c.Partial, "Then the bri")
            .Add(c => c.Status, "in_progress"));
        Assert.Equal(["You", "Trip planner", "Trip planner"], turns.FindAll(".who-said").Select(e => e.TextContent));
        Assert.Equal("Then the bri", turns.Find("[data-streaming] .said").TextContent);
        Assert.Equal("Answering…", turns.Find("[data-run-status]").TextContent);
        Assert.Equal("true", turns.Find("ol").GetAttribute("aria-busy"));

        // A status the page has no words for (or a plain chat, which has none) shows nothing beside the answer.
        turns.Render(p => p.Add(c => c.Status, "requires_action"));
        Assert.Empty(turns.FindAll("[data-run-status]"));
        turns.Render(p => p.Add(c => c.Streaming, false).Add(c => c.Answerer, null));
        Assert.Empty(turns.FindAll("[data-streaming]"));
        Assert.Equal("Model", turns.FindAll(".who-said")[1].TextContent);
        Assert.Equal("false", turns.Find("ol").GetAttribute("aria-busy"));
    }
}
