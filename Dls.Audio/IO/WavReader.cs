using System.Buffers.Binary;

namespace Dls.Audio.IO;

/// <summary>
/// Reads a WAV file block by block in bounded memory: the header is parsed on construction, then
/// <see cref="ReadFrames(Span{float})"/> decodes interleaved frames until the data chunk is exhausted.
/// </summary>
/// <remarks>
/// Accepts RIFF/WAVE with integer PCM (8-bit unsigned, 16, 24, 32-bit), IEEE float (32, 64-bit) and
/// <c>WAVE_FORMAT_EXTENSIBLE</c> with those sub-formats, any channel count. Chunks other than <c>fmt </c> and
/// <c>data</c> (<c>LIST</c>, <c>fact</c>, <c>bext</c>, …) are skipped, honouring the pad byte after odd sizes.
/// Malformed headers raise <see cref="InvalidDataException"/> naming the field, the expected and the found value;
/// real but unsupported codecs (A-law, µ-law, ADPCM, MP3 …) raise <see cref="NotSupportedException"/>.
/// The reader never allocates more than a fixed block (64 KiB) regardless of what the header claims. A trailing
/// partial frame in the data chunk is ignored. <c>nAvgBytesPerSec</c> is not checked (many writers get it wrong
/// and nothing depends on it).
/// </remarks>
public sealed class WavReader : IDisposable
{
    /// <summary>The largest <c>fmt </c> chunk accepted; real ones are 16 to 40 bytes.</summary>
    internal const int MaxFmtChunkSize = 1024;

    private const int BufferBytes = 1 << 16;
    private const ushort TagPcm = 0x0001;
    private const ushort TagFloat = 0x0003;
    private const ushort TagExtensible = 0xFFFE;

    // The 14 bytes that follow the format tag in every KSDATAFORMAT_SUBTYPE_* GUID (…-0000-0010-8000-00AA00389B71).
    private static ReadOnlySpan<byte> SubFormatGuidTail => [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly byte[] _buffer;
    private readonly string? _path;
    private float[]? _interleaved;   // scratch of ReadMonoFrames for files of more than one channel
    private long _dataBytesRemaining;
    private bool _disposed;

    /// <summary>Opens <paramref name="path"/> and parses its header.</summary>
    /// <param name="path">A WAV file.</param>
    /// <exception cref="InvalidDataException">The header is malformed.</exception>
    /// <exception cref="NotSupportedException">The file uses a codec other than PCM or IEEE float.</exception>
    public WavReader(string path)
        : this(OpenFile(path), leaveOpen: false, path)
    {
    }

    /// <summary>Parses the header of the WAV content at the current position of <paramref name="stream"/>.</summary>
    /// <param name="stream">A readable stream; seekable streams let the reader check sizes against the stream length up front.</param>
    /// <param name="leaveOpen">Whether <see cref="Dispose"/> leaves <paramref name="stream"/> open.</param>
    /// <exception cref="InvalidDataException">The header is malformed.</exception>
    /// <exception cref="NotSupportedException">The file uses a codec other than PCM or IEEE float.</exception>
    public WavReader(Stream stream, bool leaveOpen = false)
        : this(stream, leaveOpen, path: null)
    {
    }

    private WavReader(Stream stream, bool leaveOpen, string? path)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _path = path;
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream must be readable.", nameof(stream));
        }

        _stream = stream;
        _leaveOpen = leaveOpen;
        try
        {
            (Format, IsExtensible, long dataBytes) = ParseHeader(stream);
            FrameCount = dataBytes / Format.BlockAlign;
            _dataBytesRemaining = FrameCount * Format.BlockAlign;
            _buffer = new byte[Math.Max(Format.BlockAlign, BufferBytes / Format.BlockAlign * Format.BlockAlign)];
        }
        catch (Exception e)
        {
            if (!leaveOpen)
            {
                stream.Dispose();
            }

            if (WithPath(e) is { } named)
            {
                throw named;
            }

            throw;
        }
    }

    /// <summary>The sample layout.</summary>
    public WavFormat Format { get; }

    /// <summary>Whether the header used <c>WAVE_FORMAT_EXTENSIBLE</c>.</summary>
    public bool IsExtensible { get; }

    /// <summary>The number of frames (samples per channel) in the data chunk.</summary>
    public long FrameCount { get; }

    /// <summary>The frames not read yet.</summary>
    public long FramesRemaining => _dataBytesRemaining / Format.BlockAlign;

    /// <summary>Whether <see cref="FrameCount"/> was checked against the length of a seekable stream.</summary>
    internal bool IsSizeVerified => _stream.CanSeek;

    /// <summary>The duration of the whole data chunk.</summary>
    public TimeSpan Duration => TimeSpan.FromSeconds((double)FrameCount / Format.SampleRate);

    /// <summary>
    /// Decodes up to <c>destination.Length / ChannelCount</c> whole frames, interleaved, as floats in [-1, 1).
    /// </summary>
    /// <param name="destination">Receives interleaved samples: at least one frame (<c>ChannelCount</c> samples); the length
    /// need not be a multiple of the channel count.</param>
    /// <returns>The number of frames decoded; 0 once the data chunk is exhausted.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than one frame, whether or not frames
    /// remain (such a buffer can never make progress, so it is refused on every file, not only on those with data left).</exception>
    /// <exception cref="InvalidDataException">The stream ends before the data chunk does.</exception>
    public int ReadFrames(Span<float> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int channels = Format.ChannelCount;
        if (destination.Length < channels)
        {
            // Returning 0 here would read as end of data and end a caller's loop with frames left unread.
            throw new ArgumentException(
                $"The destination must hold at least one frame ({channels} samples); found {destination.Length}.", nameof(destination));
        }

        int blockAlign = Format.BlockAlign;
        long wanted = Math.Min(destination.Length / channels, FramesRemaining);
        int done = 0;
        while (done < wanted)
        {
            int frames = (int)Math.Min(wanted - done, _buffer.Length / blockAlign);
            int bytes = frames * blockAlign;
            int got = _stream.ReadAtLeast(_buffer.AsSpan(0, bytes), bytes, throwOnEndOfStream: false);
            if (got < bytes)
            {
                var truncated = new InvalidDataException(
                    $"WAV data chunk is truncated: the header declares {FrameCount * blockAlign} bytes of samples, " +
                    $"but the stream ended after {(FrameCount * blockAlign) - _dataBytesRemaining + got}.");
                throw WithPath(truncated) ?? truncated;
            }

            SampleCodec.Decode(_buffer.AsSpan(0, bytes), destination.Slice(done * channels, frames * channels), Format.SampleFormat);
            _dataBytesRemaining -= bytes;
            done += frames;
        }

        return done;
    }

    /// <summary>
    /// Decodes up to <c>destination.Length</c> whole frames downmixed to mono, exactly as <see cref="WavData.ToMono"/>
    /// downmixes the whole file (<see cref="WavData.DownmixInterleaved"/>): a file read this way block by block gives the
    /// samples of <see cref="AudioFile.Load"/>. Working memory stays one 64-KiB block whatever the channel count.
    /// </summary>
    /// <param name="destination">Receives one sample per frame (at least one).</param>
    /// <returns>The number of frames decoded; 0 once the data chunk is exhausted.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is empty.</exception>
    /// <exception cref="InvalidDataException">The stream ends before the data chunk does.</exception>
    public int ReadMonoFrames(Span<float> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (destination.IsEmpty)
        {
            throw new ArgumentException("The destination must hold at least one frame; found 0 samples.", nameof(destination));
        }

        int channels = Format.ChannelCount;
        if (channels == 1)
        {
            return ReadFrames(destination);
        }

        _interleaved ??= new float[Math.Max(1, BufferBytes / sizeof(float) / channels) * channels];
        int done = 0;
        while (done < destination.Length)
        {
            int frames = ReadFrames(_interleaved.AsSpan(0, Math.Min(destination.Length - done, _interleaved.Length / channels) * channels));
            if (frames == 0)
            {
                break;
            }

            WavData.DownmixInterleaved(_interleaved.AsSpan(0, frames * channels), channels, destination[done..]);
            done += frames;
        }

        return done;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    /// <summary>
    /// For a reader opened on a file, the same kind of exception with the file's path in front of the message (a command
    /// reading many files must say which one is broken); null for stream readers and other exceptions.
    /// </summary>
    private Exception? WithPath(Exception e) => _path is null ? null : e switch
    {
        InvalidDataException => new InvalidDataException($"'{_path}': {e.Message}", e),
        NotSupportedException => new NotSupportedException($"'{_path}': {e.Message}", e),
        _ => null,
    };

    private static FileStream OpenFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
    }

    private static (WavFormat Format, bool Extensible, long DataBytes) ParseHeader(Stream stream)
    {
        Span<byte> head = stackalloc byte[12];
        ReadHeaderBytes(stream, head, "RIFF header");
        string riff = FourCC(head[..4]);
        if (riff is "RIFX" or "RF64" or "BW64")
        {
            throw new NotSupportedException($"WAV container '{riff}' is not supported; expected 'RIFF' (little-endian, ≤ 4 GiB).");
        }

        if (riff != "RIFF")
        {
            throw new InvalidDataException($"Not a WAV file: RIFF chunk id: expected 'RIFF', found '{riff}'.");
        }

        string wave = FourCC(head[8..12]);
        if (wave != "WAVE")
        {
            throw new InvalidDataException($"Not a WAV file: RIFF form type: expected 'WAVE', found '{wave}'.");
        }

        WavFormat? format = null;
        bool extensible = false;
        Span<byte> chunkHeader = stackalloc byte[8];
        while (true)
        {
            int got = stream.ReadAtLeast(chunkHeader, 8, throwOnEndOfStream: false);
            if (got < 8)
            {
                throw new InvalidDataException(format is null
                    ? $"WAV file has no 'fmt ' chunk: the stream ended after {got} bytes of a chunk header while looking for it."
                    : $"WAV file has no 'data' chunk: the stream ended after {got} bytes of a chunk header while looking for it.");
            }

            string id = FourCC(chunkHeader[..4]);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(chunkHeader[4..]);
            if (id == "fmt ")
            {
                if (size < 16 || size > MaxFmtChunkSize)
                {
                    throw new InvalidDataException($"WAV 'fmt ' chunk size: expected 16 to {MaxFmtChunkSize} bytes, found {size}.");
                }

                byte[] fmt = new byte[size + (size & 1)];
                ReadHeaderBytes(stream, fmt, "'fmt ' chunk");
                (format, extensible) = ParseFmt(fmt.AsSpan(0, (int)size));
            }
            else if (id == "data")
            {
                if (format is null)
                {
                    throw new InvalidDataException("WAV chunk order: expected 'fmt ' before 'data', found 'data' first.");
                }

                long dataBytes = size;
                if (stream.CanSeek)
                {
                    long available = stream.Length - stream.Position;
                    if (size == uint.MaxValue)
                    {
                        // Streaming writers put 0xFFFFFFFF when the length was unknown: the data runs to the end.
                        dataBytes = available;
                    }
                    else if (dataBytes > available)
                    {
                        throw new InvalidDataException(
                            $"WAV 'data' chunk size: the header declares {dataBytes} bytes, but only {available} remain in the stream.");
                    }
                }
                else if (size == uint.MaxValue)
                {
                    throw new InvalidDataException("WAV 'data' chunk size: found 0xFFFFFFFF (unknown length), which needs a seekable stream.");
                }

                return (format, extensible, dataBytes);
            }
            else
            {
                SkipChunk(stream, id, size + (long)(size & 1));
            }
        }
    }

    private static (WavFormat Format, bool Extensible) ParseFmt(ReadOnlySpan<byte> fmt)
    {
        ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
        int channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
        uint sampleRate = BinaryPrimitives.ReadUInt32LittleEndian(fmt[4..]);
        int blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(fmt[12..]);
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);
        bool extensible = tag == TagExtensible;
        if (extensible)
        {
            if (fmt.Length < 40)
            {
                throw new InvalidDataException($"WAV 'fmt ' chunk size for WAVE_FORMAT_EXTENSIBLE: expected at least 40 bytes, found {fmt.Length}.");
            }

            int cbSize = BinaryPrimitives.ReadUInt16LittleEndian(fmt[16..]);
            if (cbSize < 22)
            {
                throw new InvalidDataException($"WAV 'fmt ' cbSize for WAVE_FORMAT_EXTENSIBLE: expected at least 22, found {cbSize}.");
            }

            int validBits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[18..]);
            if (validBits > bits)
            {
                throw new InvalidDataException($"WAV 'fmt ' valid bits per sample: expected at most the container's {bits}, found {validBits}.");
            }

            ReadOnlySpan<byte> guid = fmt.Slice(24, 16);
            if (!guid[2..].SequenceEqual(SubFormatGuidTail))
            {
                throw new NotSupportedException($"WAV WAVE_FORMAT_EXTENSIBLE sub-format GUID {Convert.ToHexString(guid)} is not a PCM or IEEE float sub-format.");
            }

            tag = BinaryPrimitives.ReadUInt16LittleEndian(guid);
        }

        WavSampleFormat sampleFormat = tag switch
        {
            TagPcm => bits switch
            {
                8 => WavSampleFormat.PcmU8,
                16 => WavSampleFormat.Pcm16,
                24 => WavSampleFormat.Pcm24,
                32 => WavSampleFormat.Pcm32,
                _ => throw new InvalidDataException($"WAV 'fmt ' bits per sample for integer PCM: expected 8, 16, 24 or 32, found {bits}."),
            },
            TagFloat => bits switch
            {
                32 => WavSampleFormat.Float32,
                64 => WavSampleFormat.Float64,
                _ => throw new InvalidDataException($"WAV 'fmt ' bits per sample for IEEE float: expected 32 or 64, found {bits}."),
            },
            _ => throw new NotSupportedException($"WAV format tag 0x{tag:X4} ({CodecName(tag)}) is not supported; expected PCM (0x0001), IEEE float (0x0003) or WAVE_FORMAT_EXTENSIBLE (0xFFFE) with one of those."),
        };

        if (channels == 0)
        {
            throw new InvalidDataException("WAV 'fmt ' channel count: expected at least 1, found 0.");
        }

        if (sampleRate == 0 || sampleRate > int.MaxValue)
        {
            throw new InvalidDataException($"WAV 'fmt ' sample rate: expected 1 to {int.MaxValue} Hz, found {sampleRate}.");
        }

        int expectedAlign = channels * sampleFormat.BytesPerSample();
        if (blockAlign != expectedAlign)
        {
            throw new InvalidDataException(
                $"WAV 'fmt ' block align: expected {expectedAlign} ({channels} channels × {sampleFormat.BytesPerSample()} bytes), found {blockAlign}.");
        }

        return (new WavFormat((int)sampleRate, channels, sampleFormat), extensible);
    }

    private static string CodecName(ushort tag) => tag switch
    {
        0x0002 => "Microsoft ADPCM",
        0x0006 => "A-law",
        0x0007 => "µ-law",
        0x0011 => "IMA ADPCM",
        0x0031 => "GSM 6.10",
        0x0050 => "MPEG",
        0x0055 => "MPEG layer 3",
        _ => "unknown codec",
    };

    private static void SkipChunk(Stream stream, string id, long bytes)
    {
        if (stream.CanSeek)
        {
            long available = stream.Length - stream.Position;
            if (bytes > available)
            {
                throw new InvalidDataException($"WAV '{id}' chunk size: the header declares {bytes} bytes, but only {available} remain in the stream.");
            }

            stream.Seek(bytes, SeekOrigin.Current);
            return;
        }

        Span<byte> scratch = stackalloc byte[4096];
        long left = bytes;
        while (left > 0)
        {
            int n = stream.Read(scratch[..(int)Math.Min(left, scratch.Length)]);
            if (n == 0)
            {
                throw new InvalidDataException($"WAV '{id}' chunk size: the header declares {bytes} bytes, but the stream ended after {bytes - left}.");
            }

            left -= n;
        }
    }

    private static void ReadHeaderBytes(Stream stream, Span<byte> buffer, string what)
    {
        int got = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (got < buffer.Length)
        {
            throw new InvalidDataException($"WAV header is truncated: {what}: expected {buffer.Length} bytes, found {got}.");
        }
    }

    private static string FourCC(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = stackalloc char[4];
        for (int i = 0; i < 4; i++)
        {
            chars[i] = bytes[i] is >= 0x20 and < 0x7F ? (char)bytes[i] : '?';
        }

        return new string(chars);
    }
}
