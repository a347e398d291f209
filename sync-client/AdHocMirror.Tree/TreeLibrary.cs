namespace AdHocMirror.Tree;

/// <summary>Marker for the tree integrity library; its parts live in the capability folders.</summary>
internal static class TreeLibrary;
