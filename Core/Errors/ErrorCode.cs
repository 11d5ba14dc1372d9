namespace AiPrompts.Core.Errors;

/// <summary>A stable, machine-readable error code and the HTTP status it travels with.</summary>
public sealed record ErrorCode(string Code, int Status)
{
    public static readonly ErrorCode BadRequest = new("bad_request", 400);
    public static readonly ErrorCode ValidationFailed = new("validation_failed", 400);
    public static readonly ErrorCode Unauthorized = new("unauthorized", 401);
    public static readonly ErrorCode InvalidCredentials = new("invalid_credentials", 401);
    public static readonly ErrorCode Forbidden = new("forbidden", 403);
    public static readonly ErrorCode NotFound = new("not_found", 404);
    public static readonly ErrorCode MethodNotAllowed = new("method_not_allowed", 405);
    public static readonly ErrorCode Conflict = new("conflict", 409);
    public static readonly ErrorCode EmailTaken = new("email_taken", 409);
    public static readonly ErrorCode PayloadTooLarge = new("payload_too_large", 413);
    public static readonly ErrorCode UnsupportedMediaType = new("unsupported_media_type", 415);
    public static readonly ErrorCode UriTooLong = new("uri_too_long", 414);
    public static readonly ErrorCode HeadersTooLarge = new("headers_too_large", 431);
    public static readonly ErrorCode LastSuperAdmin = new("last_super_admin", 409);
    public static readonly ErrorCode CannotChangeSelf = new("cannot_change_self", 400);
    public static readonly ErrorCode RateLimited = new("rate_limited", 429);
    public static readonly ErrorCode InternalError = new("internal_error", 500);
    public static readonly ErrorCode ServiceUnavailable = new("service_unavailable", 503);

    // Providers, models and keys: why a caller cannot use a provider and model.
    public static readonly ErrorCode ProviderDisabled = new("provider_disabled", 400);
    public static readonly ErrorCode ModelUnavailable = new("model_unavailable", 400);
    public static readonly ErrorCode ModelLacksCapability = new("model_lacks_capability", 400);
    public static readonly ErrorCode KeyMissing = new("ai_key_missing", 400);
    public static readonly ErrorCode SharedKeyNotAllowed = new("shared_key_not_allowed", 403);
    public static readonly ErrorCode InvalidBaseUrl = new("invalid_base_url", 400);
    public static readonly ErrorCode ProviderExists = new("provider_exists", 409);
    public static readonly ErrorCode KeyDecryptionFailed = new("key_decryption_failed", 500);
    public static readonly ErrorCode CatalogueInvalid = new("catalogue_invalid", 500);

    // What a vendor said, as stable codes.
    public static readonly ErrorCode VendorInvalidKey = new("vendor_invalid_key", 502);
    public static readonly ErrorCode VendorNoCredit = new("vendor_no_credit", 502);
    public static readonly ErrorCode VendorRateLimited = new("vendor_rate_limited", 429);
    public static readonly ErrorCode VendorModelNotFound = new("vendor_model_not_found", 502);
    public static readonly ErrorCode VendorContentFiltered = new("vendor_content_filtered", 422);
    public static readonly ErrorCode VendorBadRequest = new("vendor_bad_request", 502);
    public static readonly ErrorCode VendorUnavailable = new("vendor_unavailable", 503);
    public static readonly ErrorCode VendorTimeout = new("vendor_timeout", 504);

    // Background work.
    public static readonly ErrorCode Cancelled = new("cancelled", 409);
    public static readonly ErrorCode AttemptsExhausted = new("attempts_exhausted", 500);
    public static readonly ErrorCode IdempotencyKeyReused = new("idempotency_key_reused", 422);
    public static readonly ErrorCode NotCancellable = new("not_cancellable", 409);

    // Versioned prompt templates.
    public static readonly ErrorCode TemplatePlaceholderMissing = new("template_placeholder_missing", 400);
    public static readonly ErrorCode TemplatePlaceholderUnknown = new("template_placeholder_unknown", 400);
    public static readonly ErrorCode TemplateSyntaxInvalid = new("template_syntax_invalid", 400);
    public static readonly ErrorCode ActiveVersionNotDeletable = new("active_version_not_deletable", 400);
    public static readonly ErrorCode PromptTypeUnknown = new("prompt_type_unknown", 400);
    public static readonly ErrorCode TemplateVariablesInvalid = new("template_variables_invalid", 400);
    public static readonly ErrorCode NoActiveVersion = new("no_active_version", 404);

    // Assistants, threads and runs (OpenAI answers 400 for a thread that is busy).
    public static readonly ErrorCode ThreadRunActive = new("thread_run_active", 400);
    public static readonly ErrorCode RunNotFinished = new("run_not_finished", 504);

    // The media store: what an upload is is read from its bytes, never from its declared type.
    public static readonly ErrorCode MediaNotAnImage = new("media_not_an_image", 415);
    public static readonly ErrorCode MediaTooLarge = new("media_too_large", 413);
    public static readonly ErrorCode MediaTooManyPixels = new("media_too_many_pixels", 413);
    public static readonly ErrorCode MediaLinkExpired = new("media_link_expired", 410);
    public static readonly ErrorCode VendorBadOutput = new("vendor_bad_output", 502);

    // Budgets
    public static readonly ErrorCode BudgetExceeded = new("budget_exceeded", 429);

    public static IReadOnlyList<ErrorCode> All { get; } =
    [
        BadRequest, ValidationFailed, Unauthorized, InvalidCredentials, Forbidden, NotFound, MethodNotAllowed,
        Conflict, EmailTaken, PayloadTooLarge, UnsupportedMediaType, UriTooLong, HeadersTooLarge, LastSuperAdmin, CannotChangeSelf,
        RateLimited, BudgetExceeded, InternalError, ServiceUnavailable,
        ProviderDisabled, ModelUnavailable, ModelLacksCapability, KeyMissing, SharedKeyNotAllowed, InvalidBaseUrl,
        ProviderExists, KeyDecryptionFailed, CatalogueInvalid,
        VendorInvalidKey, VendorNoCredit, VendorRateLimited, VendorModelNotFound, VendorContentFiltered,
        VendorBadRequest, VendorUnavailable, VendorTimeout,
        Cancelled, AttemptsExhausted, IdempotencyKeyReused, NotCancellable,
        TemplatePlaceholderMissing, TemplatePlaceholderUnknown, TemplateSyntaxInvalid, ActiveVersionNotDeletable,
        PromptTypeUnknown, TemplateVariablesInvalid, NoActiveVersion,
        ThreadRunActive, RunNotFinished,
        MediaNotAnImage, MediaTooLarge, MediaTooManyPixels, MediaLinkExpired, VendorBadOutput,
    ];

    /// <summary>The code a job stored (its last error), if it is one of ours.</summary>
    public static ErrorCode? Find(string? code) => code is null ? null : All.FirstOrDefault(c => c.Code == code);

    /// <summary>The generic code for a status when nothing more precise is known.</summary>
    public static ErrorCode ForStatus(int status) => status switch
    {
        400 => BadRequest,
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        409 => Conflict,
        413 => PayloadTooLarge,
        414 => UriTooLong,
        415 => UnsupportedMediaType,
        431 => HeadersTooLarge,
        429 => RateLimited,
        503 => ServiceUnavailable,
        >= 500 => InternalError,
        _ => BadRequest,
    };
}
