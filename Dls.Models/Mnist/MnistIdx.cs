using System.Buffers.Binary;
using System.IO.Compression;

namespace Dls.Models.Mnist;

/// <summary>One split of an MNIST-format data set: images as bytes (row-major, 0 = background) and labels.</summary>
/// <param name="Pixels">Count·Rows·Columns bytes, image after image.</param>
/// <param name="Labels">Count labels in 0 … 9.</param>
/// <param name="Rows">Image height, at least 1.</param>
/// <param name="Columns">Image width, at least 1.</param>
/// <exception cref="ArgumentNullException">An array is null.</exception>
/// <exception cref="ArgumentOutOfRangeException">Rows or Columns is below 1, or Rows·Columns exceeds <see cref="int.MaxValue"/>.</exception>
/// <exception cref="ArgumentException">Pixels does not hold Labels.Length·Rows·Columns bytes.</exception>
/// <remarks>
/// The properties are get-only, so a <c>with</c> expression cannot make the sizes disagree after the constructor
/// checked them.
/// </remarks>
public sealed record MnistSplit(byte[] Pixels, byte[] Labels, int Rows, int Columns)
{
    /// <summary>Count·Rows·Columns bytes, image after image.</summary>
    public byte[] Pixels { get; } = Checked(Pixels, Labels, Rows, Columns);

    /// <summary>Count labels in 0 … 9.</summary>
    public byte[] Labels { get; } = Labels;

    /// <summary>Image height.</summary>
    public int Rows { get; } = Rows;

    /// <summary>Image width.</summary>
    public int Columns { get; } = Columns;

    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>Pixels per image (Rows·Columns).</summary>
    public int Features => Rows * Columns;

    /// <summary>The first <paramref name="count"/> images (for quick runs).</summary>
    /// <param name="count">1 … <see cref="Count"/>.</param>
    /// <returns>A new split sharing nothing with this one.</returns>
    public MnistSplit Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        return new MnistSplit(Pixels.AsSpan(0, count * Features).ToArray(), Labels.AsSpan(0, count).ToArray(), Rows, Columns);
    }

    /// <summary>
    /// Checks the constructor's arguments against each other (Take, <see cref="MnistTensors.From"/> and training index
    /// the pixels by label count and image size) and returns the pixels.
    /// </summary>
    private static byte[] Checked(byte[] pixels, byte[] labels, int rows, int columns)
    {
        ArgumentNullException.ThrowIfNull(pixels, nameof(Pixels));
        ArgumentNullException.ThrowIfNull(labels, nameof(Labels));
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1, nameof(Rows));
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1, nameof(Columns));
        // Features is Rows·Columns as an int.
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)rows * columns, int.MaxValue, "Rows·Columns");
        long expected = (long)labels.Length * rows * columns;   // < 2³¹·2³¹: no overflow
        if (pixels.Length != expected)
            throw new ArgumentException(
                $"Expected {labels.Length} labels × {rows}×{columns} = {expected} pixel bytes, found {pixels.Length}.", nameof(Pixels));
        return pixels;
    }
}

/// <summary>
/// Reads the IDX files of MNIST and look-alikes (Fashion-MNIST), gzipped or raw. Every header field is checked;
/// a malformed, truncated or inconsistent file raises <see cref="InvalidDataException"/> saying what was expected and found.
/// </summary>
/// <remarks>
/// IDX layout (LeCun et al.): two zero bytes, a type byte (0x08 = unsigned byte), the number of dimensions, then each
/// dimension as a big-endian 32-bit integer, then the data. Images are 3-D (count, rows, columns): magic 0x00000803;
/// labels are 1-D (count): magic 0x00000801.
/// </remarks>
public static class MnistIdx
{
    private const int ImagesMagic = 0x00000803;
    private const int LabelsMagic = 0x00000801;

    /// <summary>The standard file names, without <c>.gz</c>.</summary>
    public static IReadOnlyList<string> StandardFileNames { get; } =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>Reads an images file.</summary>
    /// <param name="stream">The file content, gzipped or raw.</param>
    /// <param name="source">A name for messages.</param>
    /// <returns>The pixels and the image size.</returns>
    public static (byte[] Pixels, int Count, int Rows, int Columns) ReadImages(Stream stream, string source = "images")
    {
        var (dims, data) = Read(stream, ImagesMagic, 3, source);
        return (data, dims[0], dims[1], dims[2]);
    }

    /// <summary>Reads a labels file; labels must be below <paramref name="classes"/>.</summary>
    /// <param name="stream">The file content, gzipped or raw.</param>
    /// <param name="source">A name for messages.</param>
    /// <param name="classes">Number of classes (10 for MNIST).</param>
    /// <returns>The labels.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classes"/> is below 1.</exception>
    /// <exception cref="InvalidDataException">The file is malformed or holds a label of <paramref name="classes"/> or more.</exception>
    public static byte[] ReadLabels(Stream stream, string source = "labels", int classes = 10)
    {
        // Checked first: with no valid label value, every file would be blamed for the caller's argument.
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        var (_, data) = Read(stream, LabelsMagic, 1, source);
        for (int i = 0; i < data.Length; i++)
            if (data[i] >= classes)
                throw new InvalidDataException($"{source}: expected labels below {classes}, found {data[i]} at index {i}.");
        return data;
    }

    /// <summary>Reads one split from an images file and a labels file and checks that their counts agree.</summary>
    /// <param name="imagesPath">The images file.</param>
    /// <param name="labelsPath">The labels file.</param>
    /// <returns>The split.</returns>
    public static MnistSplit ReadSplit(string imagesPath, string labelsPath)
    {
        (byte[] pixels, int count, int rows, int columns) images;
        using (var s = File.OpenRead(imagesPath)) images = ReadImages(s, imagesPath);
        byte[] labels;
        using (var s = File.OpenRead(labelsPath)) labels = ReadLabels(s, labelsPath);
        if (labels.Length != images.count)
            throw new InvalidDataException(
                $"'{imagesPath}' holds {images.count} images but '{labelsPath}' holds {labels.Length} labels; expected equal counts.");
        return new MnistSplit(images.pixels, labels, images.rows, images.columns);
    }

    /// <summary>Finds a standard file in <paramref name="directory"/>, gzipped or raw.</summary>
    /// <param name="directory">The folder.</param>
    /// <param name="baseName">One of <see cref="StandardFileNames"/>.</param>
    /// <returns>The path.</returns>
    /// <exception cref="FileNotFoundException">Neither form exists.</exception>
    public static string Locate(string directory, string baseName)
    {
        foreach (var candidate in new[] { baseName + ".gz", baseName, baseName.Replace("-idx", ".idx", StringComparison.Ordinal) })
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"Expected '{baseName}.gz' or '{baseName}' in '{directory}', found neither.", Path.Combine(directory, baseName));
    }

    private static (int[] Dims, byte[] Data) Read(Stream stream, int expectedMagic, int expectedDims, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var input = OpenMaybeGzip(stream);
        try
        {
            Span<byte> header = stackalloc byte[4];
            ReadExactly(input, header, source, "the 4-byte magic number");
            int magic = BinaryPrimitives.ReadInt32BigEndian(header);
            if (magic != expectedMagic)
                throw new InvalidDataException(
                    $"{source}: expected IDX magic 0x{expectedMagic:X8} ({(expectedDims == 3 ? "unsigned-byte images, 3 dimensions" : "unsigned-byte labels, 1 dimension")}), found 0x{magic:X8}.");
            var dims = new int[expectedDims];
            long total = 1;
            for (int d = 0; d < expectedDims; d++)
            {
                ReadExactly(input, header, source, $"dimension {d} of the header");
                dims[d] = BinaryPrimitives.ReadInt32BigEndian(header);
                if (dims[d] <= 0)
                    throw new InvalidDataException($"{source}: expected a positive size for dimension {d}, found {dims[d]}.");
                // Checked per dimension: total ≤ Array.MaxLength < 2³¹ before the product, so it cannot overflow a long.
                total *= dims[d];
                if (total > Array.MaxLength)
                    throw new InvalidDataException(
                        $"{source}: header announces dimensions [{string.Join("×", dims[..(d + 1)])}{(d + 1 < expectedDims ? "×…" : "")}], more than {Array.MaxLength} bytes of data can be held.");
            }
            var data = new byte[total];
            int read = input.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
            if (read < data.Length)
                throw new InvalidDataException($"{source}: truncated; header [{string.Join("×", dims)}] announces {total} data bytes, found {read}.");
            if (input.ReadByte() != -1)
                throw new InvalidDataException($"{source}: expected the data to end after {total} bytes ([{string.Join("×", dims)}]), found more.");
            return (dims, data);
        }
        catch (InvalidDataException)
        {
            throw;
        }
        catch (Exception e) when (e is IOException)
        {
            throw new InvalidDataException($"{source}: unreadable ({e.Message}).", e);
        }
        finally
        {
            if (!ReferenceEquals(input, stream)) input.Dispose();
        }
    }

    private static Stream OpenMaybeGzip(Stream stream)
    {
        var buffered = stream.CanSeek ? stream : new BufferedStream(stream);
        if (!buffered.CanSeek)
        {
            var copy = new MemoryStream();
            buffered.CopyTo(copy);
            copy.Position = 0;
            buffered = copy;
        }
        long start = buffered.Position;
        int b0 = buffered.ReadByte(), b1 = buffered.ReadByte();
        buffered.Position = start;
        // 0x1F 0x8B is the gzip member header (RFC 1952); IDX files start with two zero bytes instead.
        return b0 == 0x1F && b1 == 0x8B ? new GZipStream(buffered, CompressionMode.Decompress, leaveOpen: true) : buffered;
    }

    private static void ReadExactly(Stream input, Span<byte> buffer, string source, string what)
    {
        int read = input.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read < buffer.Length)
            throw new InvalidDataException($"{source}: truncated header; expected {what} ({buffer.Length} bytes), found {read} bytes.");
    }
}

/// <summary>An MNIST-format data set: a training and a test split read from one folder.</summary>
/// <param name="Train">The training split.</param>
/// <param name="Test">The test split.</param>
public sealed record MnistDataset(MnistSplit Train, MnistSplit Test)
{
    /// <summary>Reads the four standard files (gzipped or raw) from <paramref name="directory"/>.</summary>
    /// <param name="directory">A folder with <c>train-images-idx3-ubyte[.gz]</c> etc.</param>
    /// <returns>The data set.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or the splits disagree in image size.</exception>
    public static MnistDataset Load(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"MNIST folder '{directory}' does not exist.");
        var names = MnistIdx.StandardFileNames;
        var train = MnistIdx.ReadSplit(MnistIdx.Locate(directory, names[0]), MnistIdx.Locate(directory, names[1]));
        var test = MnistIdx.ReadSplit(MnistIdx.Locate(directory, names[2]), MnistIdx.Locate(directory, names[3]));
        if (train.Rows != test.Rows || train.Columns != test.Columns)
            throw new InvalidDataException(
                $"Training images are {train.Rows}×{train.Columns} but test images are {test.Rows}×{test.Columns}; expected equal sizes.");
        return new MnistDataset(train, test);
    }
}
