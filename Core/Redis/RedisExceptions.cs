namespace AiPrompts.Core.Redis;

public class RedisException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Redis could not be reached, or the connection broke before the reply arrived.</summary>
public sealed class RedisConnectionException(string message, Exception? inner = null) : RedisException(message, inner);

/// <summary>The reply did not arrive within the command timeout.</summary>
public sealed class RedisTimeoutException(string message) : RedisException(message);

/// <summary>The server answered with an error reply.</summary>
public sealed class RedisServerException(string message) : RedisException(message);
