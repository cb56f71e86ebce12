using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dls.Audio.IO;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Models.Checkpoints;

/// <summary>
/// Reads and writes safetensors files, the weights format of Hugging Face (<c>safetensors.torch.save_file</c>,
/// <c>model.safetensors</c>): an 8-byte little-endian unsigned header size N, N bytes of UTF-8 JSON naming each tensor's
/// dtype, shape and <c>data_offsets</c> (begin and one-past-end, relative to the byte buffer) plus an optional
/// <c>__metadata__</c> string-to-string object, then the byte buffer: little-endian, C order, every byte belonging to
/// exactly one tensor.
/// </summary>
/// <remarks>
/// <para>
/// Element types: F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL, read as <see cref="ScalarType.Float64"/>,
/// <see cref="ScalarType.Float32"/>, <see cref="ScalarType.Float16"/>, <see cref="ScalarType.BFloat16"/>,
/// <see cref="ScalarType.Int64"/>, <see cref="ScalarType.Int32"/>, <see cref="ScalarType.Int16"/>,
/// <see cref="ScalarType.Int8"/>, <see cref="ScalarType.Byte"/> and <see cref="ScalarType.Bool"/>. The format's other
/// types (U16, U32, U64, the 8-, 6- and 4-bit floats, C64) are refused by name.
/// </para>
/// <para>
/// Reading checks what the reference implementation (huggingface/safetensors, <c>safetensors/src/tensor.rs</c>) checks —
/// a header of at most 100,000,000 bytes, each tensor's byte length equal to its element count times its element size,
/// the tensors covering the buffer exactly, without overlaps or gaps — and more: duplicate names, which JSON parsers
/// silently merge; a header that does not begin with <c>{</c>; BOOL bytes other than 0 and 1. It does not depend on the
/// order of the header's keys or of the buffer.
/// </para>
/// <para>
/// Writing lays the file out as the reference serializer does, so that a file written here is byte for byte the one
/// Python's <c>safetensors.torch.save_file</c> writes for the same tensors: tensors sorted by element alignment, largest
/// first (I64, F64, F32, I32, BF16, F16, I16, I8, U8, BOOL: the order of the reference's <c>Dtype</c> enum, reversed),
/// then by name (ordinal over UTF-8 bytes); compact JSON with <c>__metadata__</c> first and the tensors in buffer order;
/// the header padded with spaces to a multiple of 8 bytes so every tensor starts 8-byte aligned. The reference keeps
/// metadata in a hash map, so its key order is arbitrary there; here the keys are sorted like the names.
/// </para>
/// </remarks>
public static class SafeTensors
{
    /// <summary>The largest header accepted, in bytes: the reference implementation's <c>MAX_HEADER_SIZE</c>.</summary>
    internal const long MaxHeaderBytes = 100_000_000;

    private const string MaxHeaderText = "100,000,000";

    private const string MetadataKey = "__metadata__";

    /// <summary>Tensor data is copied in pieces of at most this many bytes: <see cref="Tensor.bytes"/> spans stop at 2 GiB.</summary>
    private const long ChunkBytes = 1L << 30;

    /// <summary>A safetensors element type Dls reads and writes.</summary>
    /// <param name="Name">The name in the header.</param>
    /// <param name="Type">The TorchSharp element type.</param>
    /// <param name="Size">Bytes per element.</param>
    /// <param name="Alignment">The position in the reference's <c>Dtype</c> enum, which lists the types "in increasing alignment order".</param>
    private sealed record DType(string Name, ScalarType Type, int Size, int Alignment);

    private static readonly DType[] Supported =
    [
        new("BOOL", ScalarType.Bool, 1, 0),
        new("U8", ScalarType.Byte, 1, 4),
        new("I8", ScalarType.Int8, 1, 5),
        new("I16", ScalarType.Int16, 2, 9),
        new("F16", ScalarType.Float16, 2, 11),
        new("BF16", ScalarType.BFloat16, 2, 12),
        new("I32", ScalarType.Int32, 4, 13),
        new("F32", ScalarType.Float32, 4, 15),
        new("F64", ScalarType.Float64, 8, 17),
        new("I64", ScalarType.Int64, 8, 18),
    ];

    /// <summary>The reference's other element types: valid files that Dls cannot hold (TorchSharp has no such types).</summary>
    private static readonly string[] Unsupported = ["F4", "F6_E2M3", "F6_E3M2", "F8_E5M2", "F8_E4M3", "F8_E8M0", "U16", "U32", "U64", "C64"];

    private static readonly string SupportedNames = string.Join(", ", Supported.OrderByDescending(d => d.Alignment).Select(d => d.Name));

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>One tensor as the header describes it.</summary>
    private sealed record Entry(string Name, DType DType, long[] Shape, long Begin, long End);

    /// <summary>One tensor to write: its header fields and the tensor holding its values.</summary>
    private sealed record Item(string Name, byte[] NameUtf8, DType DType, long[] Shape, long Bytes, Tensor Tensor);

    /// <summary>Reads a whole safetensors file into CPU tensors.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The tensors by name and the file's metadata; the caller disposes it. No dispose scope owns its tensors.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is malformed (the message names the file, what was expected and what was found).</exception>
    /// <exception cref="NotSupportedException">A tensor has an element type of the format that Dls cannot hold (U16, U32, U64, F8_*, …).</exception>
    /// <exception cref="PlatformNotSupportedException">The processor is big-endian.</exception>
    public static StateDictFile Read(string path)
    {
        ThrowIfBigEndian();
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Safetensors file '{path}' not found.", path);
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream, path);
    }

    /// <summary>Reads a whole safetensors file from a stream (from its current position to its end) into CPU tensors.</summary>
    /// <param name="stream">The content; not closed. A stream that cannot seek is read to its end to check that no bytes follow the tensors.</param>
    /// <param name="source">Where the content comes from (a file path or URL), for messages and <see cref="StateDictFile.Source"/>.</param>
    /// <returns>The tensors by name and the file's metadata; the caller disposes it. No dispose scope owns its tensors.</returns>
    /// <exception cref="InvalidDataException">The content is malformed (the message names <paramref name="source"/>, what was expected and what was found).</exception>
    /// <exception cref="NotSupportedException">A tensor has an element type of the format that Dls cannot hold (U16, U32, U64, F8_*, …).</exception>
    /// <exception cref="ArgumentException">The stream cannot be read, or <paramref name="source"/> is empty.</exception>
    /// <exception cref="PlatformNotSupportedException">The processor is big-endian.</exception>
    public static StateDictFile Read(Stream stream, string source)
    {
        ThrowIfBigEndian();
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        if (!stream.CanRead)
        {
            throw new ArgumentException($"Expected a readable stream for '{source}'; found one that cannot be read.", nameof(stream));
        }

        long? available = stream.CanSeek ? Math.Max(0, stream.Length - stream.Position) : null;
        Span<byte> prefix = stackalloc byte[8];
        int got = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        if (got < prefix.Length)
        {
            throw Malformed(source, $"expected at least 8 bytes (the header size), found {got}");
        }

        ulong headerSize = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerSize > MaxHeaderBytes)
        {
            throw Malformed(source, $"expected a header size of at most {MaxHeaderText} bytes, found {headerSize.ToString(CultureInfo.InvariantCulture)}");
        }

        int n = (int)headerSize;
        if (available is { } length && n > length - 8)
        {
            throw Malformed(source, $"expected a header of {n} bytes after the 8-byte header size, found only {length - 8} bytes in the file");
        }

        byte[] header = new byte[n];
        got = stream.ReadAtLeast(header, n, throwOnEndOfStream: false);
        if (got < n)
        {
            throw Malformed(source, $"expected a header of {n} bytes after the 8-byte header size, found only {got} bytes in the file");
        }

        var (entries, metadata) = ParseHeader(header, source);
        long covered = CheckLayout(entries, source);
        if (available is { } total)
        {
            CheckBufferLength(entries, covered, total - 8 - n, source);
        }

        return ReadTensors(stream, entries, metadata, covered, source);
    }

    /// <summary>
    /// Writes tensors to a safetensors file atomically (a temporary file renamed over <paramref name="path"/>, so a failure
    /// leaves any earlier file whole), laid out as the reference serializer lays it out (see <see cref="SafeTensors"/>).
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="tensors">The tensors by name, on any device, contiguous or not; their values are written as CPU, C-order copies and the tensors are left as they are.</param>
    /// <param name="metadata">Text to store as <c>__metadata__</c>; null stores none (an empty dictionary stores an empty object, as the reference does).</param>
    /// <exception cref="ArgumentException">
    /// A name is null, given twice, <c>__metadata__</c> or not valid UTF-16; a tensor is disposed or of an element type
    /// the format cannot hold (complex); a metadata key or value is null or not valid UTF-16; or the header would exceed
    /// 100,000,000 bytes. Nothing is written.
    /// </exception>
    /// <exception cref="PlatformNotSupportedException">The processor is big-endian.</exception>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ThrowIfBigEndian();
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(tensors);
        List<Item> items = Prepare(tensors);
        byte[] header = BuildHeader(items, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (Item item in items)
            {
                WriteData(stream, item);
            }
        });
    }

    /// <summary>
    /// Saves a module's state dictionary — parameters and persistent buffers under their state-dict names
    /// (<c>fc1.weight</c>, <c>bn.running_mean</c>) — as a safetensors file that PyTorch loads with
    /// <c>model.load_state_dict(safetensors.torch.load_file(path))</c> when the names match.
    /// </summary>
    /// <param name="module">The module; left unchanged.</param>
    /// <param name="path">The file to create or replace (atomically, as <see cref="Write"/>).</param>
    /// <param name="metadata">Text to store as <c>__metadata__</c>; null stores none.</param>
    /// <exception cref="ArgumentException">As <see cref="Write"/>; nothing is written.</exception>
    /// <exception cref="PlatformNotSupportedException">The processor is big-endian.</exception>
    public static void Save(Module module, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        // state_dict returns the module's own tensors (not copies): they are read, never disposed.
        Write(path, module.state_dict(), metadata);
    }

    private static void ThrowIfBigEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            // Tensor bytes are copied between the file and native memory as they are, which is only right on little-endian machines.
            throw new PlatformNotSupportedException("Reading and writing safetensors files requires a little-endian processor.");
        }
    }

    private static InvalidDataException Malformed(string source, string what) => new($"Safetensors file '{source}': {what}.");

    private static (List<Entry> Entries, Dictionary<string, string> Metadata) ParseHeader(byte[] header, string source)
    {
        // The format requires the header to begin with '{' (the reference reader still lets whitespace pass).
        if (header.Length == 0 || header[0] != (byte)'{')
        {
            string found = header.Length == 0 ? "an empty header" : $"byte 0x{header[0]:X2} ('{Printable(header[0])}')";
            throw Malformed(source, $"expected the header to be a JSON object beginning with '{{', found {found}");
        }

        int invalid = FirstInvalidUtf8(header);
        if (invalid >= 0)
        {
            throw Malformed(source, $"expected the header to be UTF-8 text, found an invalid byte sequence at header byte {invalid} (0x{header[invalid]:X2})");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Safetensors file '{source}': expected the header to be valid JSON, found: {e.Message}", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Malformed(source, $"expected the header to be a JSON object, found {Describe(root)}");
            }

            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in root.EnumerateObject())
            {
                // JsonDocument keeps duplicate keys (and serde_json keeps the last); the format disallows them.
                if (!seen.Add(property.Name))
                {
                    throw Malformed(source, $"expected each name once in the header, found '{property.Name}' twice");
                }

                if (property.Name == MetadataKey)
                {
                    ParseMetadata(property.Value, metadata, source);
                }
                else
                {
                    entries.Add(ParseEntry(property.Name, property.Value, source));
                }
            }

            return (entries, metadata);
        }
    }

    private static void ParseMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Malformed(source, $"expected '{MetadataKey}' to be an object of strings, found {Describe(value)}");
        }

        foreach (JsonProperty item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw Malformed(source, $"expected '{MetadataKey}' to map strings to strings, found {Describe(item.Value)} for key '{item.Name}'");
            }

            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw Malformed(source, $"expected each '{MetadataKey}' key once, found '{item.Name}' twice");
            }
        }
    }

    private static Entry ParseEntry(string name, JsonElement value, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Malformed(source, $"tensor '{name}': expected an object with dtype, shape and data_offsets, found {Describe(value)}");
        }

        JsonElement? dtype = null, shape = null, offsets = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty field in value.EnumerateObject())
        {
            if (!seen.Add(field.Name))
            {
                throw Malformed(source, $"tensor '{name}': expected each field once, found '{field.Name}' twice");
            }

            // Other fields are ignored, as the reference reader ignores them.
            switch (field.Name)
            {
                case "dtype": dtype = field.Value; break;
                case "shape": shape = field.Value; break;
                case "data_offsets": offsets = field.Value; break;
            }
        }

        JsonElement dtypeValue = dtype ?? throw Malformed(source, $"tensor '{name}': expected a 'dtype' field, found none");
        JsonElement shapeValue = shape ?? throw Malformed(source, $"tensor '{name}': expected a 'shape' field, found none");
        JsonElement offsetsValue = offsets ?? throw Malformed(source, $"tensor '{name}': expected a 'data_offsets' field, found none");

        if (dtypeValue.ValueKind != JsonValueKind.String)
        {
            throw Malformed(source, $"tensor '{name}': expected 'dtype' to be a string such as \"F32\", found {Describe(dtypeValue)}");
        }

        string dtypeName = dtypeValue.GetString()!;
        DType type = Supported.FirstOrDefault(d => d.Name == dtypeName)
            ?? throw (Array.IndexOf(Unsupported, dtypeName) >= 0
                ? new NotSupportedException(
                    $"Safetensors file '{source}': tensor '{name}' has dtype {dtypeName}, which Dls cannot read (TorchSharp has no such element type); supported: {SupportedNames}.")
                : Malformed(source, $"tensor '{name}': expected a safetensors dtype ({SupportedNames}, …), found \"{dtypeName}\""));

        if (shapeValue.ValueKind != JsonValueKind.Array)
        {
            throw Malformed(source, $"tensor '{name}': expected 'shape' to be an array of sizes, found {Describe(shapeValue)}");
        }

        long[] sizes = new long[shapeValue.GetArrayLength()];
        int index = 0;
        foreach (JsonElement size in shapeValue.EnumerateArray())
        {
            sizes[index] = ReadCount(size, name, $"shape[{index}]", source);
            index++;
        }

        if (offsetsValue.ValueKind != JsonValueKind.Array || offsetsValue.GetArrayLength() != 2)
        {
            throw Malformed(source, $"tensor '{name}': expected 'data_offsets' to be [begin, end], found {Describe(offsetsValue)}");
        }

        long begin = ReadCount(offsetsValue[0], name, "data_offsets[0]", source);
        long end = ReadCount(offsetsValue[1], name, "data_offsets[1]", source);
        if (begin > end)
        {
            throw Malformed(source, $"tensor '{name}': expected data_offsets [begin, end] with begin <= end, found [{begin}, {end}]");
        }

        long elements, bytes;
        try
        {
            elements = sizes.Aggregate(1L, (product, size) => checked(product * size));
            bytes = checked(elements * type.Size);
        }
        catch (OverflowException)
        {
            throw Malformed(source, $"tensor '{name}': expected a shape whose byte count fits in 64 bits, found {type.Name} {Format(sizes)}");
        }

        if (end - begin != bytes)
        {
            throw Malformed(source,
                $"tensor '{name}': expected {bytes} bytes for {type.Name} {Format(sizes)} ({elements} elements × {type.Size} bytes), " +
                $"found data_offsets [{begin}, {end}] holding {end - begin}");
        }

        return new Entry(name, type, sizes, begin, end);
    }

    /// <summary>A shape size or an offset: a non-negative integer that fits in a <see cref="long"/>.</summary>
    private static long ReadCount(JsonElement value, string name, string what, string source)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw Malformed(source, $"tensor '{name}': expected {what} to be a non-negative integer, found {Describe(value)}");
        }

        string text = value.GetRawText();
        if (text.AsSpan().IndexOfAny(".eE") >= 0)
        {
            throw Malformed(source, $"tensor '{name}': expected {what} to be a non-negative integer, found the non-integer {text}");
        }

        if (!value.TryGetInt64(out long count))
        {
            throw Malformed(source, $"tensor '{name}': expected {what} to be an integer of at most {long.MaxValue}, found {text}");
        }

        if (count < 0)
        {
            throw Malformed(source, $"tensor '{name}': expected {what} to be a non-negative integer, found {text}");
        }

        return count;
    }

    /// <summary>
    /// Puts the entries in buffer order and checks that they tile the buffer from byte 0 without overlaps or gaps, as the
    /// reference reader does (it sorts by data_offsets, so the header's key order does not matter).
    /// </summary>
    /// <returns>The number of bytes the tensors cover.</returns>
    private static long CheckLayout(List<Entry> entries, string source)
    {
        // Zero-byte tensors share their offset with a neighbour; the name keeps the order deterministic.
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin)
            : a.End != b.End ? a.End.CompareTo(b.End)
            : string.CompareOrdinal(a.Name, b.Name));
        long covered = 0;
        Entry? previous = null;
        foreach (Entry entry in entries)
        {
            if (entry.Begin < covered)
            {
                throw Malformed(source,
                    $"expected tensors not to overlap, found '{entry.Name}' at data_offsets [{entry.Begin}, {entry.End}] " +
                    $"starting inside '{previous!.Name}' at [{previous.Begin}, {previous.End}]");
            }

            if (entry.Begin > covered)
            {
                throw Malformed(source,
                    $"expected the tensors to cover the data buffer without gaps, found {entry.Begin - covered} bytes ([{covered}, {entry.Begin})) " +
                    $"that no tensor covers before '{entry.Name}' at data_offsets [{entry.Begin}, {entry.End}]");
            }

            covered = entry.End;
            if (entry.End > entry.Begin || previous is null)
            {
                previous = entry;
            }
        }

        return covered;
    }

    private static void CheckBufferLength(List<Entry> entries, long covered, long buffer, string source)
    {
        if (covered > buffer)
        {
            Entry last = entries.First(e => e.End > buffer);
            throw Malformed(source,
                $"tensor '{last.Name}' at data_offsets [{last.Begin}, {last.End}]: expected it to end within the data buffer, " +
                $"found a buffer of only {buffer} bytes (a truncated file?)");
        }

        if (covered < buffer)
        {
            throw Malformed(source,
                $"expected the tensors to cover the whole data buffer of {buffer} bytes, found {buffer - covered} bytes after the last tensor ends at {covered}");
        }
    }

    private static StateDictFile ReadTensors(Stream stream, List<Entry> entries, Dictionary<string, string> metadata, long covered, string source)
    {
        var made = new List<KeyValuePair<string, Tensor>>(entries.Count);
        try
        {
            long position = 0;
            foreach (Entry entry in entries)
            {
                Tensor tensor;
                try
                {
                    tensor = empty(entry.Shape, entry.DType.Type, CPU);
                }
                catch (System.Runtime.InteropServices.ExternalException e)
                {
                    // libtorch's allocation failure: from a stream that cannot seek the header's sizes cannot be checked
                    // against the data before this point, so a damaged header asking for terabytes ends here.
                    throw Malformed(source,
                        $"tensor '{entry.Name}' ({entry.DType.Name} [{string.Join(", ", entry.Shape)}], {entry.End - entry.Begin} bytes) could not be allocated " +
                        $"(a damaged header, or too little memory): {e.Message.Split('\n')[0]}");
                }

                // Owned by the StateDictFile from the start: a dispose scope the caller has open must not take it.
                tensor.DetachFromDisposeScope();
                made.Add(new(entry.Name, tensor));
                long offset = 0;
                ForEachChunk(tensor, entry.End - entry.Begin, entry.DType.Size, chunk =>
                {
                    int got = stream.ReadAtLeast(chunk, chunk.Length, throwOnEndOfStream: false);
                    if (got < chunk.Length)
                    {
                        long buffer = position + offset + got;
                        throw Malformed(source,
                            $"tensor '{entry.Name}' at data_offsets [{entry.Begin}, {entry.End}]: expected it to end within the data buffer, " +
                            $"found a buffer of only {buffer} bytes (a truncated file?)");
                    }

                    if (entry.DType.Type == ScalarType.Bool)
                    {
                        CheckBool(chunk, offset, entry, source);
                    }

                    offset += chunk.Length;
                });
                position = entry.End;
            }

            if (!stream.CanSeek)
            {
                CheckNothingFollows(stream, covered, source);
            }

            return new StateDictFile(source, made, metadata);
        }
        catch
        {
            foreach (var (_, tensor) in made)
            {
                tensor.Dispose();
            }

            throw;
        }
    }

    private static void CheckBool(ReadOnlySpan<byte> chunk, long offset, Entry entry, string source)
    {
        // libtorch assumes bool bytes are 0 or 1; anything else gives undefined results in comparisons and sums.
        int bad = chunk.IndexOfAnyExcept((byte)0, (byte)1);
        if (bad >= 0)
        {
            throw Malformed(source, $"tensor '{entry.Name}': expected BOOL bytes 0 or 1, found {chunk[bad]} at element {offset + bad}");
        }
    }

    /// <summary>For a stream whose length was not known in advance: any byte after the last tensor is a byte no tensor covers.</summary>
    private static void CheckNothingFollows(Stream stream, long covered, string source)
    {
        byte[] scratch = new byte[1 << 16];
        long extra = 0;
        int got;
        while ((got = stream.Read(scratch)) > 0)
        {
            extra += got;
        }

        if (extra > 0)
        {
            throw Malformed(source,
                $"expected the tensors to cover the whole data buffer of {covered + extra} bytes, found {extra} bytes after the last tensor ends at {covered}");
        }
    }

    /// <summary>Receives one piece of a tensor's native memory, to fill or to copy.</summary>
    internal delegate void ChunkAction(Span<byte> chunk);

    /// <summary>
    /// Hands out the native memory of a contiguous CPU tensor of <paramref name="bytes"/> bytes in pieces of at most
    /// <paramref name="chunkBytes"/> (a multiple of <paramref name="elementSize"/>), in order.
    /// </summary>
    internal static void ForEachChunk(Tensor tensor, long bytes, int elementSize, ChunkAction action, long chunkBytes = ChunkBytes)
    {
        if (bytes == 0)
        {
            return;
        }

        if (bytes <= chunkBytes)
        {
            action(tensor.bytes);
            return;
        }

        long elements = bytes / elementSize, perChunk = chunkBytes / elementSize;
        using Tensor flat = tensor.flatten();
        for (long start = 0; start < elements; start += perChunk)
        {
            using Tensor part = flat.narrow(0, start, Math.Min(perChunk, elements - start));
            action(part.bytes);
        }
    }

    private static List<Item> Prepare(IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        var items = new List<Item>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (name is null)
            {
                throw new ArgumentException("Expected a name for every tensor; found a null name.", nameof(tensors));
            }

            if (name == MetadataKey)
            {
                throw new ArgumentException($"Expected tensor names other than '{MetadataKey}', which the format reserves for metadata; found a tensor named so.", nameof(tensors));
            }

            if (!names.Add(name))
            {
                throw new ArgumentException($"Expected unique tensor names; found '{name}' twice.", nameof(tensors));
            }

            byte[] utf8 = Utf8OrThrow(name, $"tensor name '{name}'", nameof(tensors));
            if (tensor is null || tensor.IsInvalid)
            {
                throw new ArgumentException($"Expected a live tensor for every name; '{name}' has {(tensor is null ? "none" : "a disposed one")}.", nameof(tensors));
            }

            ScalarType scalarType = tensor.dtype;
            DType type = Supported.FirstOrDefault(d => d.Type == scalarType)
                ?? throw new ArgumentException($"Expected tensors of an element type safetensors holds ({SupportedNames}); '{name}' is {scalarType}.", nameof(tensors));
            long[] shape = tensor.shape;
            items.Add(new Item(name, utf8, type, shape, tensor.numel() * type.Size, tensor));
        }

        // The reference serializer's order: largest alignment first, then by name.
        items.Sort((a, b) => a.DType.Alignment != b.DType.Alignment
            ? b.DType.Alignment.CompareTo(a.DType.Alignment)
            : a.NameUtf8.AsSpan().SequenceCompareTo(b.NameUtf8));
        return items;
    }

    private static byte[] BuildHeader(List<Item> items, IReadOnlyDictionary<string, string>? metadata)
    {
        var json = new StringBuilder("{");
        if (metadata is not null)
        {
            var pairs = new List<(byte[] Key, string KeyText, string Value)>();
            foreach (var (key, value) in metadata)
            {
                if (key is null || value is null)
                {
                    throw new ArgumentException($"Expected metadata of non-null strings; found a null {(key is null ? "key" : $"value for '{key}'")}.", nameof(metadata));
                }

                pairs.Add((Utf8OrThrow(key, $"metadata key '{key}'", nameof(metadata)), key, value));
                Utf8OrThrow(value, $"metadata value for '{key}'", nameof(metadata));
            }

            pairs.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
            AppendString(json, MetadataKey).Append(":{");
            for (int i = 0; i < pairs.Count; i++)
            {
                AppendString(json.Append(i == 0 ? "" : ","), pairs[i].KeyText).Append(':');
                AppendString(json, pairs[i].Value);
            }

            json.Append('}');
        }

        long offset = 0;
        foreach (Item item in items)
        {
            AppendString(json.Append(json.Length == 1 ? "" : ","), item.Name)
                .Append(":{\"dtype\":\"").Append(item.DType.Name)
                .Append("\",\"shape\":[").AppendJoin(',', item.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))
                .Append("],\"data_offsets\":[").Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append((offset + item.Bytes).ToString(CultureInfo.InvariantCulture)).Append("]}");
            offset += item.Bytes;
        }

        json.Append('}');
        byte[] text = StrictUtf8.GetBytes(json.ToString());
        // Padded with spaces to a multiple of 8, so that the buffer (and with the sort every tensor) is 8-byte aligned.
        int padded = (text.Length + 7) / 8 * 8;
        if (padded > MaxHeaderBytes)
        {
            throw new ArgumentException(
                $"Expected a header of at most {MaxHeaderText} bytes (what readers accept); the {items.Count} tensors' names, shapes and metadata need {padded}.");
        }

        byte[] header = new byte[padded];
        text.CopyTo(header, 0);
        header.AsSpan(text.Length).Fill((byte)' ');
        return header;
    }

    /// <summary>
    /// Appends a JSON string as serde_json (the reference's JSON library) writes it: quote, backslash and control
    /// characters escaped (short forms for \b \f \n \r \t, lower-case \u00xx otherwise), everything else as is.
    /// </summary>
    private static StringBuilder AppendString(StringBuilder json, string text)
    {
        json.Append('"');
        foreach (char c in text)
        {
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\b': json.Append("\\b"); break;
                case '\f': json.Append("\\f"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                case < ' ': json.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture)); break;
                default: json.Append(c); break;
            }
        }

        return json.Append('"');
    }

    private static byte[] Utf8OrThrow(string text, string what, string parameter)
    {
        try
        {
            return StrictUtf8.GetBytes(text);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"Expected the {what} to be valid UTF-16 (the header is UTF-8); found a lone surrogate at index {e.Index}.", parameter, e);
        }
    }

    private static void WriteData(Stream stream, Item item)
    {
        if (item.Bytes == 0)
        {
            return;
        }

        using var scope = NewDisposeScope();
        // A CPU, C-order copy (or the tensor itself when it already is one); detached so no autograd graph is kept.
        Tensor data = item.Tensor.detach().cpu().contiguous();
        ForEachChunk(data, item.Bytes, item.DType.Size, chunk => stream.Write(chunk));
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i < bytes.Length;)
        {
            if (Rune.DecodeFromUtf8(bytes[i..], out _, out int consumed) != System.Buffers.OperationStatus.Done)
            {
                return i;
            }

            i += consumed;
        }

        return -1;
    }

    private static char Printable(byte b) => b is >= 0x20 and < 0x7F ? (char)b : '?';

    private static string Format(long[] shape) => $"[{string.Join(", ", shape)}]";

    /// <summary>A JSON value for a message: its kind and its text, shortened.</summary>
    private static string Describe(JsonElement value)
    {
        string text = value.GetRawText();
        if (text.Length > 60)
        {
            text = text[..57] + "...";
        }

        string kind = value.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            JsonValueKind.Null => "null",
            _ => value.ValueKind.ToString(),
        };
        return value.ValueKind == JsonValueKind.Null ? kind : $"{kind} {text}";
    }
}
