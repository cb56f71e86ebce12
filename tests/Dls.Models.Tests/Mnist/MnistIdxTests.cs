using Dls.Models.Mnist;

namespace Dls.Models.Tests.Mnist;

public sealed class MnistIdxTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("dls-idx-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadImages_RawOrGzip_ReturnsPixelsAndShape(bool gzip)
    {
        byte[] raw = IdxFixtures.Images(3, 4, 5);
        using var stream = new MemoryStream(gzip ? IdxFixtures.Gzip(raw) : raw);
        var (pixels, count, rows, columns) = MnistIdx.ReadImages(stream);
        Assert.Equal((3, 4, 5), (count, rows, columns));
        Assert.Equal(raw[16..], pixels);
    }

    [Fact]
    public void ReadImages_WrongMagic_SaysExpectedAndFound()
    {
        using var stream = new MemoryStream(IdxFixtures.Labels(1, 2));
        var e = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(stream, "x"));
        Assert.Contains("expected IDX magic 0x00000803", e.Message);
        Assert.Contains("found 0x00000801", e.Message);
    }

    [Fact]
    public void ReadImages_Truncated_SaysAnnouncedAndFoundBytes()
    {
        byte[] raw = IdxFixtures.Images(2, 3, 3);
        using var stream = new MemoryStream(raw[..^4]);
        var e = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(stream, "x"));
        Assert.Contains("announces 18 data bytes, found 14", e.Message);
    }

    [Fact]
    public void ReadImages_TruncatedGzip_IsInvalidData()
    {
        byte[] gz = IdxFixtures.Gzip(IdxFixtures.Images(20, 28, 28));
        using var stream = new MemoryStream(gz[..(gz.Length / 2)]);
        Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(stream, "x"));
    }

    [Fact]
    public void ReadImages_TrailingBytes_AreRejected()
    {
        byte[] raw = [.. IdxFixtures.Images(1, 2, 2), 0];
        using var stream = new MemoryStream(raw);
        var e = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(stream, "x"));
        Assert.Contains("found more", e.Message);
    }

    [Fact]
    public void ReadImages_ShortHeader_SaysWhichField()
    {
        using var stream = new MemoryStream(IdxFixtures.Images(1, 2, 2)[..10]);
        var e = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(stream, "x"));
        Assert.Contains("dimension 1", e.Message);
    }

    [Fact]
    public void ReadLabels_LabelOutOfRange_SaysIndex()
    {
        using var stream = new MemoryStream(IdxFixtures.Labels(3, 10, 1));
        var e = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadLabels(stream, "y"));
        Assert.Contains("found 10 at index 1", e.Message);
    }

    [Fact]
    public void DatasetLoad_CountMismatch_NamesBothFiles()
    {
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte.gz"), IdxFixtures.Gzip(IdxFixtures.Images(3, 2, 2)));
        File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte"), IdxFixtures.Labels(1, 2));
        File.WriteAllBytes(Path.Combine(dir, "t10k-images-idx3-ubyte"), IdxFixtures.Images(1, 2, 2));
        File.WriteAllBytes(Path.Combine(dir, "t10k-labels-idx1-ubyte"), IdxFixtures.Labels(4));
        var e = Assert.Throws<InvalidDataException>(() => MnistDataset.Load(dir));
        Assert.Contains("holds 3 images", e.Message);
        Assert.Contains("holds 2 labels", e.Message);
    }

    [Fact]
    public void DatasetLoad_MixedGzipAndRaw_ReadsBothSplits()
    {
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte.gz"), IdxFixtures.Gzip(IdxFixtures.Images(2, 2, 2)));
        File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte"), IdxFixtures.Labels(1, 9));
        File.WriteAllBytes(Path.Combine(dir, "t10k-images-idx3-ubyte"), IdxFixtures.Images(1, 2, 2));
        File.WriteAllBytes(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"), IdxFixtures.Gzip(IdxFixtures.Labels(4)));
        var data = MnistDataset.Load(dir);
        Assert.Equal([1, 9], data.Train.Labels);
        Assert.Equal(1, data.Test.Count);
        Assert.Equal(4, data.Train.Features);
    }

    [Fact]
    public void DatasetLoad_MissingFile_NamesIt()
    {
        var e = Assert.Throws<FileNotFoundException>(() => MnistDataset.Load(dir));
        Assert.Contains("train-images-idx3-ubyte", e.Message);
    }

    [Fact]
    public void EmbeddedData_IsTheExpected8000And2000Split()
    {
        // samples/data/mnist is the embedded default data; the test reads it in place (it is part of the repository).
        string root = AppContext.BaseDirectory;
        while (root is not null && !Directory.Exists(Path.Combine(root, "samples", "data", "mnist")))
            root = Path.GetDirectoryName(root)!;
        Assert.NotNull(root);
        var data = MnistDataset.Load(Path.Combine(root, "samples", "data", "mnist"));
        Assert.Equal((8000, 2000, 28, 28), (data.Train.Count, data.Test.Count, data.Train.Rows, data.Train.Columns));
    }

    [Fact]
    public void ReadImages_DimensionProductBeyondLong_ThrowsBeforeOverflow()
    {
        // 2³⁰ × 2³⁰ × 16 = 2⁶⁴ wraps to 0 in a long: multiplied out first, this header announced "0 bytes".
        byte[] raw = IdxFixtures.Images(1, 1, 1);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(raw.AsSpan(4), 1 << 30);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(raw.AsSpan(8), 1 << 30);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(raw.AsSpan(12), 16);
        using var stream = new MemoryStream(raw);

        var e = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(stream, "x"));

        Assert.Contains("x: header announces dimensions [1073741824×1073741824×…], more than", e.Message);
    }

    [Theory]
    [InlineData(4, -1, 0)]   // the count
    [InlineData(8, 0, 1)]    // the rows
    public void ReadImages_NonPositiveDimension_SaysWhichAndFound(int offset, int value, int dimension)
    {
        byte[] raw = IdxFixtures.Images(2, 2, 2);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(raw.AsSpan(offset), value);
        using var stream = new MemoryStream(raw);

        var e = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadImages(stream, "x"));

        Assert.Contains($"x: expected a positive size for dimension {dimension}, found {value}", e.Message);
    }

    /// <summary>A stream that fails as a broken disk or connection does: an IOException after some bytes.</summary>
    /// <remarks>Only the array overload is overridden: MemoryStream's span overload calls it for derived types.</remarks>
    private sealed class FailingStream(byte[] bytes, int failAfter) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (Position >= failAfter) throw new IOException("the device is gone");
            return base.Read(buffer, offset, (int)Math.Min(count, failAfter - Position));
        }
    }

    [Fact]
    public void ReadLabels_StreamFailsMidWay_ThrowsInvalidDataWithTheCause()
    {
        using var stream = new FailingStream(IdxFixtures.Labels(1, 2, 3, 4), failAfter: 10);

        var e = Assert.Throws<InvalidDataException>(() => MnistIdx.ReadLabels(stream, "y"));

        Assert.Contains("y: unreadable (the device is gone)", e.Message);
        Assert.IsType<IOException>(e.InnerException);
    }

    /// <summary>A read-only stream that cannot seek (a network or pipe stream).</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream inner = new(bytes);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadImages_StreamThatCannotSeek_ReadsTheSameAsFromMemory(bool gzip)
    {
        byte[] raw = IdxFixtures.Images(3, 4, 5);
        using var stream = new ForwardOnlyStream(gzip ? IdxFixtures.Gzip(raw) : raw);

        var (pixels, count, rows, columns) = MnistIdx.ReadImages(stream);

        Assert.Equal((3, 4, 5), (count, rows, columns));
        Assert.Equal(raw[16..], pixels);
    }

    [Fact]
    public void DatasetLoad_MissingFolder_ThrowsNamingIt()
    {
        string missing = Path.Combine(dir, "nothing-here");

        var e = Assert.Throws<DirectoryNotFoundException>(() => MnistDataset.Load(missing));

        Assert.Contains($"MNIST folder '{missing}' does not exist", e.Message);
    }

    [Fact]
    public void DatasetLoad_TrainAndTestImagesOfOtherSizes_ThrowsNamingBoth()
    {
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte"), IdxFixtures.Images(2, 2, 2));
        File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte"), IdxFixtures.Labels(1, 9));
        File.WriteAllBytes(Path.Combine(dir, "t10k-images-idx3-ubyte"), IdxFixtures.Images(1, 3, 4));
        File.WriteAllBytes(Path.Combine(dir, "t10k-labels-idx1-ubyte"), IdxFixtures.Labels(4));

        var e = Assert.Throws<InvalidDataException>(() => MnistDataset.Load(dir));

        Assert.Contains("Training images are 2×2 but test images are 3×4; expected equal sizes", e.Message);
    }
}
