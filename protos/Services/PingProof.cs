using System.Security.Cryptography;
using System.Text;

namespace AdHocMirror.Contracts;

/// <summary>
/// The liveness proof of ping.proto, in one place so that daemon and coordinator agree on the bytes:
/// HMAC-SHA256 keyed with the 32 bytes that <c>LoginReply.session_secret</c> spells in hex, over
/// <c>nonce || UTF-8(session_id)</c>.
/// </summary>
public static class PingProof
{
    public static byte[] Compute(string sessionSecretHex, ReadOnlySpan<byte> nonce, string sessionId) =>
        Compute(Convert.FromHexString(sessionSecretHex), nonce, sessionId);

    public static byte[] Compute(byte[] sessionSecret, ReadOnlySpan<byte> nonce, string sessionId)
    {
        var message = new byte[nonce.Length + Encoding.UTF8.GetByteCount(sessionId)];
        nonce.CopyTo(message);
        Encoding.UTF8.GetBytes(sessionId, message.AsSpan(nonce.Length));
        return HMACSHA256.HashData(sessionSecret, message);
    }

    /// <summary>Checks an answer in constant time.</summary>
    public static bool Verify(byte[] sessionSecret, ReadOnlySpan<byte> nonce, string sessionId, ReadOnlySpan<byte> proof) =>
        proof.Length == HMACSHA256.HashSizeInBytes && CryptographicOperations.FixedTimeEquals(Compute(sessionSecret, nonce, sessionId), proof);
}
