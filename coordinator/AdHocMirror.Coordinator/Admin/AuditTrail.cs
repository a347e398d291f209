using System.Threading.Channels;
using AdHocMirror.Coordinator.Storage;

namespace AdHocMirror.Coordinator.Admin;

/// <summary>Tells WatchAudit streams about audit entries as they are committed.</summary>
public sealed class AuditTrail
{
    private readonly Lock _gate = new();
    private readonly List<Channel<AuditRecord>> _watchers = [];

    public void Published(AuditRecord entry)
    {
        lock (_gate)
        {
            foreach (var watcher in _watchers)
            {
                // Bounded and dropping: a stalled watcher must not hold up the coordinator.
                watcher.Writer.TryWrite(entry);
            }
        }
    }

    public Subscription Watch()
    {
        var channel = Channel.CreateBounded<AuditRecord>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_gate)
        {
            _watchers.Add(channel);
        }

        return new Subscription(this, channel);
    }

    public sealed class Subscription(AuditTrail trail, Channel<AuditRecord> channel) : IDisposable
    {
        public ChannelReader<AuditRecord> Reader => channel.Reader;

        public void Dispose()
        {
            lock (trail._gate)
            {
                trail._watchers.Remove(channel);
            }
        }
    }
}
