namespace AdHocMirror.GeoIP.Format;

/// <summary>The file is not a valid MaxMind DB: the message says what is wrong and where.</summary>
public sealed class InvalidDatabaseException : Exception
{
    public InvalidDatabaseException()
    {
    }

    public InvalidDatabaseException(string message)
        : base(message)
    {
    }

    public InvalidDatabaseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
