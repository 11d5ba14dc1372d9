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
    public static readonly ErrorCode LastSuperAdmin = new("last_super_admin", 409);
    public static readonly ErrorCode CannotChangeSelf = new("cannot_change_self", 400);
    public static readonly ErrorCode RateLimited = new("rate_limited", 429);
    public static readonly ErrorCode InternalError = new("internal_error", 500);
    public static readonly ErrorCode ServiceUnavailable = new("service_unavailable", 503);

    public static IReadOnlyList<ErrorCode> All { get; } =
    [
        BadRequest, ValidationFailed, Unauthorized, InvalidCredentials, Forbidden, NotFound, MethodNotAllowed,
        Conflict, EmailTaken, PayloadTooLarge, UnsupportedMediaType, LastSuperAdmin, CannotChangeSelf,
        RateLimited, InternalError, ServiceUnavailable,
    ];

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
        415 => UnsupportedMediaType,
        429 => RateLimited,
        503 => ServiceUnavailable,
        >= 500 => InternalError,
        _ => BadRequest,
    };
}
