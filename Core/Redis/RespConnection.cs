using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Net.Sockets;
using System.Threading.Channels;

namespace AiPrompts.Core.Redis;

/// <summary>
/// One socket to Redis. After the handshake it runs in one of two modes: pipelined (every command
/// written in order, replies matched to a FIFO of waiters, so many commands are in flight at once) or
/// subscriber (every frame read is handed to a callback). Any I/O failure closes it for good and fails
/// whatever was waiting; the owner opens a new one.
/// </summary>
internal sealed class RespConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly RespReader _reader;
    private readonly CancellationTokenSource _closing = new();
    private readonly Channel<PendingCommand> _outbox = Channel.CreateUnbounded<PendingCommand>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly ConcurrentQueue<PendingCommand> _inFlight = new();
    private readonly TaskCompletionSource<Exception> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loops = Task.CompletedTask;

    private RespConnection(Socket socket, Stream stream)
    {
        _socket = socket;
        _stream = stream;
        _reader = new RespReader(stream);
    }

    public int Protocol { get; private set; } = 2;

    /// <summary>Completes, with the cause, when the connection has closed.</summary>
    public Task<Exception> Closed => _closed.Task;

    public bool IsOpen => !_closed.Task.IsCompleted;

    public static async Task<RespConnection> ConnectAsync(RedisOptions options, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            await socket.ConnectAsync(options.Host, options.Port, timeout.Token).ConfigureAwait(false);
            Stream stream = new NetworkStream(socket, ownsSocket: false);
            if (options.Ssl)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                var authentication = new SslClientAuthenticationOptions { TargetHost = options.SslHost ?? options.Host };
                if (options.CertificateAuthority is { } authority)
                {
                    authentication.CertificateChainPolicy = new X509ChainPolicy
                    {
                        TrustMode = X509ChainTrustMode.CustomRootTrust,
                        RevocationMode = X509RevocationMode.NoCheck,
                        CustomTrustStore = { authority },
                    };
                }
                await ssl.AuthenticateAsClientAsync(authentication, timeout.Token).ConfigureAwait(false);
                stream = ssl;
            }
            var connection = new RespConnection(socket, stream);
            await connection.HandshakeAsync(options, timeout.Token).ConfigureAwait(false);
            return connection;
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or AuthenticationException)
        {
            socket.Dispose();
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            throw new RedisConnectionException($"Could not connect to Redis at {options}: {ex.Message}", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>HELLO 3 (with AUTH and SETNAME) where the server speaks RESP3; AUTH and RESP2 otherwise; then SELECT.</summary>
    private async Task HandshakeAsync(RedisOptions options, CancellationToken cancellationToken)
    {
        var hello = new List<RedisArg> { "3" };
        if (options.Password is not null)
        {
            hello.AddRange(["AUTH", options.User ?? "default", options.Password]);
        }
        if (options.ClientName is not null)
        {
            hello.AddRange(["SETNAME", options.ClientName]);
        }
        var reply = await RoundTripAsync("HELLO", hello, cancellationToken).ConfigureAwait(false);
        if (!reply.IsError)
        {
            Protocol = 3;
        }
        else if (IsAuthError(reply))
        {
            throw new RedisConnectionException("Redis refused the credentials (check the password in the connection string).");
        }
        else
        {
            // A server without RESP3 (before Redis 6) answers HELLO with an error: speak RESP2.
            if (options.Password is not null)
            {
                List<RedisArg> auth = options.User is null ? [options.Password] : [options.User, options.Password];
                var authReply = await RoundTripAsync("AUTH", auth, cancellationToken).ConfigureAwait(false);
                if (authReply.IsError)
                {
                    throw new RedisConnectionException("Redis refused the credentials (check the password in the connection string).");
                }
            }
        }

        if (options.Database != 0)
        {
            var selected = await RoundTripAsync("SELECT", [options.Database], cancellationToken).ConfigureAwait(false);
            if (selected.IsError)
            {
                throw new RedisConnectionException($"Redis refused SELECT {options.Database}: {selected.AsString()}");
            }
        }
    }

    private static bool IsAuthError(RedisReply reply)
    {
        var text = reply.AsString() ?? "";
        return text.StartsWith("WRONGPASS", StringComparison.Ordinal) || text.StartsWith("NOAUTH", StringComparison.Ordinal)
            || text.Contains("invalid password", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Used only during the handshake, before either loop runs.</summary>
    private async Task<RedisReply> RoundTripAsync(string command, IReadOnlyList<RedisArg> args, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>();
        RespWriter.WriteCommand(buffer, command, args);
        await _stream.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        return await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
    }

    public void StartPipelined() => _loops = Task.WhenAll(Task.Run(WriteLoopAsync), Task.Run(ReadRepliesLoopAsync));

    public void StartSubscriber(Func<RedisReply, ValueTask> onFrame) =>
        _loops = Task.WhenAll(Task.Run(WriteLoopAsync), Task.Run(() => ReadFramesLoopAsync(onFrame)));

    /// <summary>Queues a command; the task completes with its reply.</summary>
    public Task<RedisReply> SendAsync(string command, IReadOnlyList<RedisArg> args)
    {
        var pending = new PendingCommand(command, args, expectsReply: true);
        if (!_outbox.Writer.TryWrite(pending))
        {
            pending.Fail(new RedisConnectionException("The Redis connection is closed."));
        }
        return pending.Reply.Task;
    }

    /// <summary>Queues a command whose answer arrives as a frame (subscriber mode).</summary>
    public bool Post(string command, IReadOnlyList<RedisArg> args) =>
        _outbox.Writer.TryWrite(new PendingCommand(command, args, expectsReply: false));

    private async Task WriteLoopAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        try
        {
            var reader = _outbox.Reader;
            while (await reader.WaitToReadAsync(_closing.Token).ConfigureAwait(false))
            {
                buffer.ResetWrittenCount();
                while (buffer.WrittenCount < 64 * 1024 && reader.TryRead(out var pending))
                {
                    RespWriter.WriteCommand(buffer, pending.Command, pending.Args);
                    if (pending.ExpectsReply)
                    {
                        _inFlight.Enqueue(pending);
                    }
                }
                if (buffer.WrittenCount > 0)
                {
                    await _stream.WriteAsync(buffer.WrittenMemory, _closing.Token).ConfigureAwait(false);
                    await _stream.FlushAsync(_closing.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex)
        {
            Close(ex);
        }
    }

    private async Task ReadRepliesLoopAsync()
    {
        try
        {
            while (true)
            {
                var reply = await _reader.ReadAsync(_closing.Token).ConfigureAwait(false);
                if (reply.Kind == RedisReplyKind.Push)
                {
                    continue; // out-of-band (client tracking, etc.): not an answer to a command
                }
                if (!_inFlight.TryDequeue(out var pending))
                {
                    throw new RedisConnectionException("Redis sent a reply that no command was waiting for.");
                }
                pending.Complete(reply);
            }
        }
        catch (Exception ex)
        {
            Close(ex);
        }
    }

    private async Task ReadFramesLoopAsync(Func<RedisReply, ValueTask> onFrame)
    {
        try
        {
            while (true)
            {
                var frame = await _reader.ReadAsync(_closing.Token).ConfigureAwait(false);
                await onFrame(frame).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            Close(ex);
        }
    }

    private void Close(Exception cause)
    {
        var error = cause as RedisConnectionException
            ?? new RedisConnectionException(cause is OperationCanceledException ? "The Redis connection was closed." : $"The Redis connection broke: {cause.Message}", cause);
        if (!_closed.TrySetResult(error))
        {
            return;
        }
        _closing.Cancel();
        _outbox.Writer.TryComplete();
        while (_outbox.Reader.TryRead(out var queued))
        {
            queued.Fail(error);
        }
        while (_inFlight.TryDequeue(out var waiting))
        {
            waiting.Fail(error);
        }
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        _socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        Close(new RedisConnectionException("The Redis connection was closed."));
        try
        {
            await _loops.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The loops end by failing; their cause is already reported through Closed.
        }
        await _stream.DisposeAsync().ConfigureAwait(false);
        _closing.Dispose();
    }

    private sealed class PendingCommand(string command, IReadOnlyList<RedisArg> args, bool expectsReply)
    {
        public string Command { get; } = command;
        public IReadOnlyList<RedisArg> Args { get; } = args;
        public bool ExpectsReply { get; } = expectsReply;
        public TaskCompletionSource<RedisReply> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Complete(RedisReply reply) => Reply.TrySetResult(reply);
        public void Fail(Exception error) => Reply.TrySetException(error);
    }
}
