using System.Security.Cryptography;
using System.Text;

namespace AdHocMirror.Coordinator.Keys;

/// <summary>Random key ids and secrets, and the hash kept of a secret.</summary>
public static class KeyMaterial
{
    public const int IdLength = 32;
    public const int SecretLength = 64;

    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// SHA-256 of the secret. A slow password hash (bcrypt, Argon2) protects guessable human passwords;
    /// a 256-bit random secret cannot be guessed whatever the hash speed, so a fast hash loses nothing
    /// and keeps the per-call key check cheap.
    /// </summary>
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.ASCII.GetBytes(secret));

    public static bool Matches(string presented, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(presented), storedHash);

    public static bool IsWellFormed(string text, int length)
    {
        if (text.Length != length)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
