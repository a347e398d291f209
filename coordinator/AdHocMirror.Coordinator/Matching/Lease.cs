using System.Buffers;
using System.Buffers.Binary;
using AdHocMirror.Contracts.V1;

namespace AdHocMirror.Coordinator.Matching;

/// <summary>A place on a mirror promised to one client, until ReportSync or its expiry.</summary>
/// <param name="Id">Its record's index in the <see cref="LeaseBook"/> in the low 32 bits, 96 bits of a keyed hash above: a lease cannot be guessed, so only the client it was given to can report on it.</param>
/// <param name="KeyId">The key the mirror had when the lease was taken (rotation may rename the slot later).</param>
/// <param name="Promised">What the coordinator promised the client: the version the mirror advertised.</param>
internal readonly record struct Lease(UInt128 Id, MirrorSlot Slot, string KeyId, TreeVersion Promised, long PromisedTicks, long ExpiresAtTicks)
{
    public DateTimeOffset ExpiresAt => new(ExpiresAtTicks, TimeSpan.Zero);

    /// <summary>The id as clients see it: 32 lower-case hex digits.</summary>
    public static string Format(UInt128 id)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, id);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>Parses a client's lease id; false for anything that is not exactly 32 hex digits.</summary>
    public static bool TryParse(string text, out UInt128 id)
    {
        id = default;
        Span<byte> bytes = stackalloc byte[16];
        if (text.Length != 32 || Convert.FromHexString(text, bytes, out _, out var written) != OperationStatus.Done || written != 16)
        {
            return false;
        }

        id = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        return true;
    }
}
