namespace AdHocMirror.GeoIP.Format;

/// <summary>The data types of the MaxMind DB data section, numbered as in the specification.</summary>
public enum MmdbKind
{
    Pointer = 1,
    String = 2,
    Double = 3,
    Bytes = 4,
    UInt16 = 5,
    UInt32 = 6,
    Map = 7,
    Int32 = 8,
    UInt64 = 9,
    UInt128 = 10,
    Array = 11,
    DataCacheContainer = 12,
    EndMarker = 13,
    Boolean = 14,
    Float = 15,
}
