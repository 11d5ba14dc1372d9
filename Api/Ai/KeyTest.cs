using System.Diagnostics;
using System.Security.Claims;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Keys;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Usage;
using AiPrompts.Core.Vendors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;

namespace AiPrompts.Api.Ai;

#pragma warning disable MEAI001 // IImageGenerator and ITextToSpeechClient are experimental in Microsoft.Extensions.AI.Abstractions 10.x.

/// <summary>
/// "Test key" on the settings page: one minimal real call through the same adapter that real work uses
/// (a five-token chat answer, a small image, or a word of speech), reported as success or as the
/// vendor's error in the caller's language.
/// </summary>
internal static class KeyTest
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    /// <summary>The usage rows' subject type for key tests.</summary>
    public const string SubjectType = "key_test";

    public sealed record Services(AppDbContext Db, AiAccess Access, VendorClientFactory Clients, MessageCatalog Messages, TimeProvider Time);

    internal static async Task<Results<Ok<DataEnvelope<TestKeyResponse>>, ValidationProblem, ProblemHttpResult>> RunAsync(
        string providerId, TestKeyRequest? request, ClaimsPrincipal principal, HttpContext http, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        KeySource? forced = request?.KeySource switch
        {
            null => null,
            "personal" => KeySource.Personal,
            "shared" => KeySource.Shared,
            _ => KeySource.None, // not a source a caller can ask for
        };
        if (forced == KeySource.None)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["keySource"] = ["The key source must be 'personal' or 'shared'."] });
        }
        var models = await services.Db.Models.AsNoTracking().Where(m => m.ProviderId == providerId).OrderBy(m => m.ModelId).ToListAsync(cancellationToken);
        var model = request?.Model is { } named ? models.FirstOrDefault(m => m.ModelId == named)
            : models.Where(m => m.IsEnabled).OrderBy(m => m.Has(Capabilities.Chat) ? 0 : m.Has(Capabilities.Image) ? 1 : 2).FirstOrDefault();
        var capability = model is null ? Capabilities.Chat
            : model.Has(Capabilities.Chat) ? Capabilities.Chat
            : model.Has(Capabilities.Content) ? Capabilities.Content
            : model.Has(Capabilities.Image) ? Capabilities.Image
            : Capabilities.Audio;
        var caller = principal.AiCaller();
        var decision = await services.Access.ForModelAsync(caller, capability, providerId, model?.ModelId ?? request?.Model ?? "", cancellationToken);
        if (decision.Provider is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var source = forced ?? decision.Outcome.Source;
        if (forced is { } wanted && decision.Outcome.Refusal is null && decision.Outcome.Source != KeySource.None)
        {
            // Resolution allows the call; check the particular source asked for exists and may be used.
            var input = decision.Input;
            var refusal = wanted == KeySource.Personal
                ? input.HasPersonalKey ? null : ErrorCode.KeyMissing
                : !input.HasSharedKey ? ErrorCode.KeyMissing
                : KeyResolution.MayUseShared(input.CallerRole, input.SharedAllowAdmins, input.SharedAllowUsers) ? null
                : ErrorCode.SharedKeyNotAllowed;
            if (refusal is not null)
            {
                return ApiProblem.Of(refusal, decision.MessageArgs);
            }
        }
        else if (decision.Outcome.Refusal is { } reason)
        {
            return ApiProblem.Of(reason, decision.MessageArgs);
        }

        VendorTarget target;
        try
        {
            target = await services.Access.TargetAsync(caller, decision, cancellationToken, source);
        }
        catch (KeyDecryptionException)
        {
            return ApiProblem.Of(ErrorCode.KeyDecryptionFailed);
        }
        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Limit);
        var sourceName = target.KeySource.ToString().ToLowerInvariant();
        try
        {
            var usage = await CallAsync(services.Clients, target, capability, timeout.Token);
            await RecordAsync(services, caller, target, capability, usage, Stopwatch.GetElapsedTime(started), null);
            return TypedResults.Ok(DataEnvelope.Of(new TestKeyResponse(true, providerId, target.ModelId, sourceName,
                (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, null, null, null, null, null)));
        }
        catch (Exception ex) when (ex is VendorException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var vendor = ex as VendorException ?? VendorErrors.TimedOut(target, Limit);
            if (vendor.HttpStatus is not null || vendor.Code != ErrorCode.VendorUnavailable)
            {
                await RecordAsync(services, caller, target, capability, null, Stopwatch.GetElapsedTime(started), vendor.Code.Code);
            }
            var language = services.Messages.ChooseLanguage(ProblemDetailsEnricher.PreferredLanguages(http.Request));
            http.Response.Headers.ContentLanguage = language;
            var args = new Dictionary<string, string>(vendor.MessageArgs) { ["provider"] = decision.Provider.DisplayName };
            var text = services.Messages.Get(vendor.Code.Code, language, args);
            return TypedResults.Ok(DataEnvelope.Of(new TestKeyResponse(false, providerId, target.ModelId, sourceName,
                (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, vendor.Code.Code, vendor.VendorMessage, text.UserMessage, text.RecoveryAction,
                vendor.RetryAfter is { } wait ? (int)Math.Ceiling(wait.TotalSeconds) : null)));
        }
    }

    /// <summary>The call, through the same clients as real work; what it used and cost.</summary>
    private static async Task<MeteredUsage?> CallAsync(VendorClientFactory clients, VendorTarget target, string capability, CancellationToken cancellationToken)
    {
        switch (capability)
        {
            case Capabilities.Image:
                using (var images = clients.CreateImageGenerator(target))
                {
                    var picture = await images.GenerateAsync(new ImageGenerationRequest("A plain grey square."), new ImageGenerationOptions { Count = 1, ImageSize = new System.Drawing.Size(256, 256) }, cancellationToken);
                    return MeteredUsage.From(picture);
                }
            case Capabilities.Audio:
                using (var speech = clients.CreateSpeechClient(target))
                {
                    return MeteredUsage.From((await speech.GetAudioAsync("OK", null, cancellationToken)).AdditionalProperties);
                }
            default:
                using (var chat = clients.CreateChatClient(target))
                {
                    var answer = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "Reply with the word OK.")], new ChatOptions { MaxOutputTokens = 5 }, cancellationToken);
                    return MeteredUsage.From(answer.AdditionalProperties);
                }
        }
    }

    /// <summary>A key test is a real vendor call, paid for like any other: it gets its usage row.</summary>
    private static async Task RecordAsync(Services services, AiCaller caller, VendorTarget target, string capability, MeteredUsage? usage, TimeSpan elapsed, string? errorCode)
    {
        var row = UsageEvent.ForCall(SubjectType, capability, caller.UserId, target, usage, elapsed,
            errorCode is null ? UsageStatus.Succeeded : UsageStatus.Failed, errorCode, services.Time.GetUtcNow());
        row.ApiKeyId = caller.ApiKeyId;
        services.Db.UsageEvents.Add(row);
        await services.Db.SaveChangesAsync(CancellationToken.None); // the call was made: its row is written even if the caller left
    }
}
