using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using AdHocMirror.Daemon.Enrolment;
using AdHocMirror.Daemon.Session;
using Grpc.Core;
using AdHocMirror.Daemon.Status;
using AdHocMirror.Daemon.Tests.Support;
using AdHocMirror.Hosting;
using AdHocMirror.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace AdHocMirror.Daemon.Tests.Session;

/// <summary>The session survives a coordinator restart and a revoked key, and ends for good when the mirror is blacklisted.</summary>
public sealed class SessionResilienceTests
{
    [Fact]
    public async Task Coordinator_restarted_and_the_daemon_is_back_online_without_help()
    {
        await using var world = await MirrorWorld.StartAsync(new() { ["protocols"] = "rsync" });
        var before = await world.OnlineAsync();
        var pings = world.State.Status.Pings;

        await world.Coordinator.StopAsync();
        await Eventually.TrueAsync(() => world.State.Status.Session == "unreachable" || world.State.Status.LastPingAt < DateTimeOffset.UtcNow.AddSeconds(-2), "the daemon notices the coordinator is away");
        await world.Coordinator.StartAsync();

        var after = await world.OnlineAsync();
        Assert.Equal(before.KeyId, after.KeyId);
        await Eventually.TrueAsync(() => world.State.Status.Pings > pings && world.State.Status.Session == "online", "pinged again");
    }

    [Fact]
    public async Task Revoked_key_is_dropped_and_the_daemon_registers_again()
    {
        await using var world = await MirrorWorld.StartAsync(new() { ["protocols"] = "rsync" });
        var first = await world.OnlineAsync();

        await world.Coordinator.Admin.RevokeKeyAsync(new RevokeKeyRequest { KeyId = first.KeyId, Reason = "test revocation" });

        await Eventually.TrueAsync(() => world.KeyId is { } id && id != first.KeyId, "a new key is registered", TimeSpan.FromSeconds(30));
        var second = await world.OnlineAsync();
        Assert.NotEqual(first.KeyId, second.KeyId);
        Assert.True(world.Log.Contains("Dropping key " + first.KeyId));
        var keys = await world.Coordinator.Admin.ListKeysAsync(new ListKeysRequest { IncludeTombstones = true });
        Assert.Contains(keys.Keys, k => k.KeyId == first.KeyId && k.State == KeyState.Revoked);
        Assert.Contains(keys.Keys, k => k.KeyId == second.KeyId && k.State == KeyState.Live);
    }

    [Fact]
    public async Task Blacklisted_mirror_stops_serving_and_says_why_instead_of_registering_again()
    {
        await using var world = await MirrorWorld.StartAsync(new() { ["protocols"] = "rsync" });
        var mirror = await world.OnlineAsync();
        var lifetime = world.Daemon.Services.GetRequiredService<IHostApplicationLifetime>();

        await world.Coordinator.Admin.BlacklistKeyAsync(new BlacklistKeyRequest { KeyId = mirror.KeyId, Reason = "served a tampered tree" });

        await Eventually.TrueAsync(() => lifetime.ApplicationStopping.IsCancellationRequested, "the daemon stops", TimeSpan.FromSeconds(30));
        Assert.Equal(ExitCodes.Refused, world.Exit.Code);
        Assert.Contains("served a tampered tree", world.Exit.Reason, StringComparison.Ordinal);
        Assert.True(world.Log.Contains("blacklisted"));
        await world.Daemon.StopAsync();
        var status = StatusFile.Read(world.Options.StatusFile)!;
        Assert.Contains("served a tampered tree", status.Stopped, StringComparison.Ordinal);
        // It kept its key (a new one would only be refused) and registered nothing new.
        Assert.Equal(mirror.KeyId, status.KeyId);
        var keys = await world.Coordinator.Admin.ListKeysAsync(new ListKeysRequest());
        Assert.Single(keys.Keys);
        // Serving stopped: the rsync port no longer answers.
        Assert.NotEqual(0, (await ExternalProcess.RunAsync("rsync", ["--list-only", world.Options.RsyncUri + "/"])).ExitCode);
    }
}
