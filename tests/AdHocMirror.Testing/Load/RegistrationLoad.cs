using System.Collections.Concurrent;
using System.Diagnostics;
using AdHocMirror.Contracts;
using AdHocMirror.Contracts.V1;
using Grpc.Core;

namespace AdHocMirror.Testing.Load;

/// <summary>
/// A fixed number of Register calls paced at a target rate, spread round-robin over coordinators, with a bounded
/// number in flight (a slow coordinator lowers the achieved rate rather than piling up calls). One action runs when
/// a given share of the calls has been sent (the kill -9). Only calls whose reply arrived count as acknowledged.
/// </summary>
public sealed class RegistrationLoad(IReadOnlyList<Func<RegistryClient>> targets, int calls, int perSecond, int maxInFlight = 256)
{
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(10);

    public sealed record Outcome(
        IReadOnlyDictionary<int, IReadOnlyList<string>> AcknowledgedByTarget, int Failed, int Unavailable, TimeSpan Elapsed, int Sent, TimeSpan ActionAt, int AcknowledgedBeforeAction)
    {
        public IEnumerable<string> Acknowledged => AcknowledgedByTarget.Values.SelectMany(k => k);

        public int AcknowledgedCount => AcknowledgedByTarget.Values.Sum(k => k.Count);

        public double SentPerSecond => Sent / Elapsed.TotalSeconds;

        public string Describe() =>
            $"{Sent} Register calls sent in {Elapsed.TotalSeconds:0.00} s ({SentPerSecond:0} calls/s); before the kill at {ActionAt.TotalSeconds:0.00} s: "
            + $"{AcknowledgedBeforeAction} acknowledged ({AcknowledgedBeforeAction / ActionAt.TotalSeconds:0} acknowledged/s); "
            + $"acknowledged {AcknowledgedCount} (per coordinator: {string.Join(", ", AcknowledgedByTarget.OrderBy(p => p.Key).Select(p => $"#{p.Key}={p.Value.Count}"))}), "
            + $"failed {Failed} (of them UNAVAILABLE {Unavailable})";
    }

    public async Task<Outcome> RunAsync(double actionAtShare, Func<Task> action)
    {
        var acknowledged = targets.Select(_ => new ConcurrentBag<string>()).ToArray();
        var failed = 0;
        var unavailable = 0;
        using var inFlight = new SemaphoreSlim(maxInFlight);
        var pending = new List<Task>(calls);
        var actionAt = (int)(calls * actionAtShare);
        Task actionDone = Task.CompletedTask;
        var actionTime = TimeSpan.Zero;
        var acknowledgedBeforeAction = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++)
        {
            if (i == actionAt)
            {
                actionTime = clock.Elapsed;
                acknowledgedBeforeAction = acknowledged.Sum(bag => bag.Count);
                actionDone = action();
            }

            // Pacing, not synchronisation: call i is due at i / perSecond seconds.
            var due = TimeSpan.FromSeconds((double)i / perSecond);
            if (due > clock.Elapsed + TimeSpan.FromMilliseconds(2))
            {
                await Task.Delay(due - clock.Elapsed);
            }

            await inFlight.WaitAsync();
            var target = i % targets.Count;
            pending.Add(CallAsync(target));
        }

        var sent = clock.Elapsed;
        await Task.WhenAll(pending);
        await actionDone;
        return new Outcome(
            acknowledged.Select((bag, i) => (i, (IReadOnlyList<string>)[.. bag])).ToDictionary(p => p.i, p => p.Item2),
            failed, unavailable, sent, calls, actionTime, acknowledgedBeforeAction);

        async Task CallAsync(int target)
        {
            try
            {
                var reply = await targets[target]().RegisterAsync(new RegisterRequest { Software = "load" }, deadline: DateTime.UtcNow + CallDeadline);
                acknowledged[target].Add(reply.KeyId);
            }
            catch (RpcException e)
            {
                Interlocked.Increment(ref failed);
                if (e.StatusCode == StatusCode.Unavailable)
                {
                    Interlocked.Increment(ref unavailable);
                }
            }
            finally
            {
                inFlight.Release();
            }
        }
    }
}
