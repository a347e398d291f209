using AdHocMirror.Contracts.V1;
using AdHocMirror.Daemon.Configuration;
using AdHocMirror.Daemon.Session;
using AdHocMirror.Daemon.Status;
using Grpc.Core;
using Microsoft.Extensions.Logging;

using MirrorState = AdHocMirror.Daemon.Status.MirrorState;

namespace AdHocMirror.Daemon.Enrolment;

/// <summary>
/// The mirror's key: registered on first need, kept in the state directory, rotated once <see cref="DaemonOptions.RotateAt"/>
/// of its life has passed, dropped when the coordinator refuses it or when it is older than its lifetime by our own clock.
/// </summary>
public sealed partial class KeyEnrolment(
    DaemonOptions options,
    CoordinatorConnection coordinator,
    MirrorState state,
    TimeProvider clock,
    ILogger<KeyEnrolment> logger)
{
    private readonly KeyFile _file = new(options.KeyFile);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private StoredKey? _key;
    private bool _loaded;

    /// <summary>The key in use, registering one when there is none (or the stored one is too old).</summary>
    public async Task<StoredKey> EnsureAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            LoadOnce();
            if (_key is { } key && IsTooOld(key))
            {
                Log.TooOld(logger, key.KeyId, key.IssuedAt);
                Forget();
            }

            if (_key is null)
            {
                var reply = await Call(() => coordinator.Registry.RegisterAsync(new RegisterRequest { Software = CoordinatorConnection.Software }, CoordinatorConnection.Call(null, cancellationToken: cancellationToken)).ResponseAsync);
                Store(FromReply(reply));
                Log.Registered(logger, _key!.KeyId, _key.ExpiresAt);
            }

            return _key!;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The key in use, without registering.</summary>
    public StoredKey? Current
    {
        get
        {
            LoadOnce();
            return _key;
        }
    }

    /// <summary>Whether the key has lived long enough to be exchanged for a new one.</summary>
    public bool RotationDue(StoredKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var life = key.ExpiresAt - key.IssuedAt;
        if (life <= TimeSpan.Zero || life > options.KeyLifetime)
        {
            life = options.KeyLifetime;
        }

        return clock.GetUtcNow() >= key.IssuedAt + (life * options.RotateAt);
    }

    /// <summary>Exchanges the key for a new one when due; the coordinator moves the live session to the new key.</summary>
    public async Task<StoredKey> RotateIfDueAsync(CancellationToken cancellationToken)
    {
        var key = await EnsureAsync(cancellationToken);
        if (!RotationDue(key))
        {
            return key;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!ReferenceEquals(key, _key))
            {
                return _key ?? key;
            }

            var reply = await Call(() => coordinator.Registry.RotateKeyAsync(new RotateKeyRequest(), CoordinatorConnection.Call(key, cancellationToken: cancellationToken)).ResponseAsync);
            Store(FromReply(reply));
            Log.Rotated(logger, key.KeyId, _key!.KeyId);
            return _key;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Drops a key the coordinator refused; the next <see cref="EnsureAsync"/> registers a new one.</summary>
    public void Drop(StoredKey refused, string reason)
    {
        ArgumentNullException.ThrowIfNull(refused);
        _gate.Wait();
        try
        {
            if (_key?.KeyId == refused.KeyId)
            {
                Log.Dropped(logger, refused.KeyId, reason);
                Forget();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary><c>ahm-daemon forget-key</c>: retire the key at the coordinator (best effort) and delete it.</summary>
    public async Task<(bool Had, string? RetireError)> RetireAndForgetAsync(CancellationToken cancellationToken)
    {
        StoredKey? key;
        try
        {
            key = _file.Load();
        }
        catch (InvalidDataException)
        {
            _file.Delete();
            return (true, "the key file was damaged; deleted without retiring");
        }

        if (key is null)
        {
            return (false, null);
        }

        string? error = null;
        try
        {
            await coordinator.Registry.RetireKeyAsync(new RetireKeyRequest(), CoordinatorConnection.Call(key, cancellationToken: cancellationToken));
        }
        catch (RpcException e) when (Refusal.Classify(e) is RefusalKind.KeyRefused or RefusalKind.Banned)
        {
            // Already dead at the coordinator: nothing to retire.
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException or TimeoutException)
        {
            error = e.Message;
        }

        _file.Delete();
        _key = null;
        return (true, error);
    }

    private bool IsTooOld(StoredKey key)
    {
        var now = clock.GetUtcNow();
        return key.AgeAt(now) >= options.KeyLifetime || now >= key.ExpiresAt;
    }

    private void LoadOnce()
    {
        if (_loaded)
        {
            return;
        }

        try
        {
            _key = _file.Load();
        }
        catch (InvalidDataException e)
        {
            Log.Damaged(logger, e.Message);
            _file.Delete();
            _key = null;
        }

        _loaded = true;
        state.Update(s => s with { KeyId = _key?.KeyId, KeyIssuedAt = _key?.IssuedAt, KeyExpiresAt = _key?.ExpiresAt });
    }

    private void Store(StoredKey key)
    {
        _file.Save(key);
        _key = key;
        state.Update(s => s with { KeyId = key.KeyId, KeyIssuedAt = key.IssuedAt, KeyExpiresAt = key.ExpiresAt });
    }

    private void Forget()
    {
        _file.Delete();
        _key = null;
        state.Update(s => s with { KeyId = null, KeyIssuedAt = null, KeyExpiresAt = null });
    }

    private StoredKey FromReply(RegisterReply reply)
    {
        var issued = reply.IssuedAt?.ToDateTimeOffset() ?? clock.GetUtcNow();
        var expires = reply.ExpiresAt?.ToDateTimeOffset() ?? issued + options.KeyLifetime;
        // Whole seconds, as the key file keeps them, so a stored key equals the one in memory.
        return new StoredKey(reply.KeyId, reply.Secret, DateTimeOffset.FromUnixTimeSeconds(issued.ToUnixTimeSeconds()), DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()));
    }

    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RpcException e) when (Refusal.Classify(e) == RefusalKind.Banned)
        {
            throw new MirrorBannedException(e.Status.Detail, e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Registered as mirror key {KeyId}, expires {ExpiresAt:u}")]
        public static partial void Registered(ILogger logger, string keyId, DateTimeOffset expiresAt);

        [LoggerMessage(2, LogLevel.Information, "Rotated key {Old} to {New}")]
        public static partial void Rotated(ILogger logger, string old, string @new);

        [LoggerMessage(3, LogLevel.Warning, "Dropping key {KeyId}: {Reason}")]
        public static partial void Dropped(ILogger logger, string keyId, string reason);

        [LoggerMessage(4, LogLevel.Warning, "Dropping key {KeyId}: issued {IssuedAt:u}, older than its lifetime")]
        public static partial void TooOld(ILogger logger, string keyId, DateTimeOffset issuedAt);

        [LoggerMessage(5, LogLevel.Warning, "Key file damaged, registering anew: {Detail}")]
        public static partial void Damaged(ILogger logger, string detail);
    }
}
