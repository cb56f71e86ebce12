using System.Buffers.Binary;
using System.IO.Compression;

namespace Dls.Models.Tests.Mnist;

/// <summary>Builds IDX files byte by byte.</summary>
internal static class IdxFixtures
{
    /// <summary>An images file: magic 0x00000803 (2 zero bytes, type 0x08 = ubyte, 3 dims), then count, rows, columns
    /// as big-endian int32, then the pixels.</summary>
    public static byte[] Images(int count, int rows, int columns, Func<int, byte>? pixel = null)
    {
        var bytes = new byte[16 + count * rows * columns];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(0), 0x00000803);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), columns);
        for (int i = 16; i < bytes.Length; i++) bytes[i] = pixel?.Invoke(i - 16) ?? (byte)((i * 37) & 0xFF);
        return bytes;
    }

    /// <summary>A labels file: magic 0x00000801 (ubyte, 1 dim), count as big-endian int32, then the labels.</summary>
    public static byte[] Labels(params byte[] labels)
    {
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(0), 0x00000801);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), labels.Length);
        labels.CopyTo(bytes, 8);
        return bytes;
    }

    public static byte[] Gzip(byte[] raw)
    {
        var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(raw);
        return output.ToArray();
    }
}
