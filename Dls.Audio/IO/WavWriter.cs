using System.Buffers.Binary;

namespace Dls.Audio.IO;

/// <summary>
/// Writes a WAV file block by block. The header is written first; on a seekable stream its sizes are patched when
/// the writer is disposed, on a non-seekable stream the frame count must be announced up front.
/// </summary>
/// <remarks>
/// Integer formats use <c>WAVE_FORMAT_PCM</c> (16-byte <c>fmt </c>), float formats <c>WAVE_FORMAT_IEEE_FLOAT</c>
/// with a <c>fact</c> chunk, the layout sox and libsndfile read everywhere. Floats are scaled by 2^(bits−1),
/// rounded half to even and clipped for integer formats, so a value of exactly 1.0 becomes the largest integer.
/// </remarks>
public sealed class WavWriter : IDisposable
{
    // Sized in bytes, not frames: a frame can hold 65,535 channels of 8 bytes, so a fixed frame count could mean gigabytes.
    private const int BufferBytes = 1 << 16;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly long? _announcedFrames;
    private readonly long _headerStart;
    private readonly int _dataSizeOffset;
    private readonly int _factOffset;
    private readonly byte[] _buffer;
    private readonly int _bufferFrames;
    private long _framesWritten;
    private bool _disposed;

    /// <summary>Starts a WAV file on <paramref name="stream"/>.</summary>
    /// <param name="stream">A writable stream.</param>
    /// <param name="format">The layout to write.</param>
    /// <param name="frameCount">The number of frames that will be written; required when the stream cannot seek.</param>
    /// <param name="leaveOpen">Whether <see cref="Dispose"/> leaves <paramref name="stream"/> open.</param>
    /// <exception cref="ArgumentException">Bad format, unwritable stream, a non-seekable stream without a frame count, or more data than a RIFF file holds.</exception>
    public WavWriter(Stream stream, WavFormat format, long? frameCount = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(format);
        format.Validate();
        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream must be writable.", nameof(stream));
        }

        if (frameCount is null && !stream.CanSeek)
        {
            throw new ArgumentException("A non-seekable stream needs the frame count up front (frameCount is null).", nameof(frameCount));
        }

        if (frameCount is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(frameCount), frameCount, "The frame count cannot be negative.");
        }

        Format = format;
        _stream = stream;
        _leaveOpen = leaveOpen;
        _announcedFrames = frameCount;
        _headerStart = stream.CanSeek ? stream.Position : 0;
        bool isFloat = format.SampleFormat.IsFloatingPoint();
        long frames = frameCount ?? 0;
        CheckSize(frames);
        Span<byte> header = stackalloc byte[58];
        int length = BuildHeader(header, format, frames, isFloat, out _dataSizeOffset, out _factOffset);
        stream.Write(header[..length]);
        _bufferFrames = Math.Max(1, BufferBytes / format.BlockAlign);
        _buffer = new byte[_bufferFrames * format.BlockAlign];
    }

    /// <summary>The layout being written.</summary>
    public WavFormat Format { get; }

    /// <summary>The frames written so far.</summary>
    public long FramesWritten => _framesWritten;

    /// <summary>Encodes and writes interleaved frames.</summary>
    /// <param name="interleaved">Interleaved samples; the length must be a multiple of the channel count.</param>
    /// <exception cref="ArgumentException">The length is not a whole number of frames.</exception>
    /// <exception cref="InvalidOperationException">More frames than announced, or more than a RIFF file can hold.</exception>
    public void WriteFrames(ReadOnlySpan<float> interleaved)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int channels = Format.ChannelCount;
        if (interleaved.Length % channels != 0)
        {
            throw new ArgumentException(
                $"Interleaved length must be a multiple of the channel count {channels}; found {interleaved.Length}.", nameof(interleaved));
        }

        long frames = interleaved.Length / channels;
        if (_announcedFrames is long announced && _framesWritten + frames > announced)
        {
            throw new InvalidOperationException($"Writing {frames} more frames would exceed the announced {announced} (already written {_framesWritten}).");
        }

        CheckSize(_framesWritten + frames, asOperation: true);
        int bytesPerSample = Format.BytesPerSample;
        int maxSamples = _bufferFrames * channels;
        while (!interleaved.IsEmpty)
        {
            int n = Math.Min(interleaved.Length, maxSamples);
            SampleCodec.Encode(interleaved[..n], _buffer, Format.SampleFormat);
            _stream.Write(_buffer, 0, n * bytesPerSample);
            interleaved = interleaved[n..];
        }

        _framesWritten += frames;
    }

    /// <summary>Writes per-channel samples (all of the same length), interleaving them.</summary>
    /// <param name="channels">One span per channel.</param>
    /// <exception cref="ArgumentException">Another channel count than the format's, a null channel, or channels of different lengths.</exception>
    /// <exception cref="InvalidOperationException">More frames than announced, or more than a RIFF file can hold.</exception>
    public void WriteChannels(IReadOnlyList<float[]> channels)
    {
        ArgumentNullException.ThrowIfNull(channels);
        if (channels.Count != Format.ChannelCount)
        {
            throw new ArgumentException($"Expected {Format.ChannelCount} channels, found {channels.Count}.", nameof(channels));
        }

        for (int c = 0; c < channels.Count; c++)
        {
            if (channels[c] is null)
            {
                throw new ArgumentException($"Channel {c} is null; expected {Format.ChannelCount} sample arrays.", nameof(channels));
            }
        }

        int frames = channels[0].Length;
        foreach (float[] ch in channels)
        {
            if (ch.Length != frames)
            {
                throw new ArgumentException($"All channels must have the same length: {frames} vs {ch.Length}.", nameof(channels));
            }
        }

        if (channels.Count == 1)
        {
            WriteFrames(channels[0]);
            return;
        }

        int n = channels.Count;
        int blockFrames = Math.Max(1, BufferBytes / (n * sizeof(float)));
        var block = new float[Math.Min(frames, blockFrames) * n];
        for (int start = 0; start < frames; start += blockFrames)
        {
            int count = Math.Min(blockFrames, frames - start);
            for (int c = 0; c < n; c++)
            {
                float[] ch = channels[c];
                for (int i = 0, j = c; i < count; i++, j += n)
                {
                    block[j] = ch[start + i];
                }
            }

            WriteFrames(block.AsSpan(0, count * n));
        }
    }

    /// <summary>Finishes the file: writes the pad byte, patches the sizes (seekable streams) and flushes.</summary>
    /// <exception cref="InvalidOperationException">A non-seekable stream got a different number of frames than announced.</exception>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            long dataBytes = _framesWritten * Format.BlockAlign;
            if ((dataBytes & 1) == 1)
            {
                _stream.WriteByte(0);
            }

            if (_announcedFrames != _framesWritten)
            {
                if (!_stream.CanSeek)
                {
                    throw new InvalidOperationException(
                        $"The WAV header announced {_announcedFrames} frames but {_framesWritten} were written, and the stream cannot seek to fix it.");
                }

                long end = _stream.Position;
                Span<byte> four = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(four, RiffSize(_dataSizeOffset, dataBytes));
                _stream.Position = _headerStart + 4;
                _stream.Write(four);
                BinaryPrimitives.WriteUInt32LittleEndian(four, (uint)dataBytes);
                _stream.Position = _headerStart + _dataSizeOffset;
                _stream.Write(four);
                if (_factOffset > 0)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(four, (uint)_framesWritten);
                    _stream.Position = _headerStart + _factOffset;
                    _stream.Write(four);
                }

                _stream.Position = end;
            }

            _stream.Flush();
        }
        finally
        {
            if (!_leaveOpen)
            {
                _stream.Dispose();
            }
        }
    }

    private void CheckSize(long frames, bool asOperation = false)
    {
        // RIFF sizes are 32-bit: the whole file (header + data + pad) must stay below 4 GiB.
        long bytes = frames * Format.BlockAlign;
        if (bytes > uint.MaxValue - 64)
        {
            string message = $"{frames} frames of {Format.BlockAlign} bytes exceed the 4 GiB a RIFF/WAV file can hold.";
            throw asOperation ? new InvalidOperationException(message) : new ArgumentException(message, "frameCount");
        }
    }

    private static uint RiffSize(int dataSizeOffset, long dataBytes) =>
        (uint)(dataSizeOffset + 4 - 8 + dataBytes + (dataBytes & 1));

    private static int BuildHeader(Span<byte> h, WavFormat format, long frames, bool isFloat, out int dataSizeOffset, out int factOffset)
    {
        int fmtSize = isFloat ? 18 : 16;
        int pos = 0;
        "RIFF"u8.CopyTo(h);
        pos += 8; // RIFF size written below
        "WAVE"u8.CopyTo(h[pos..]);
        pos += 4;
        "fmt "u8.CopyTo(h[pos..]);
        BinaryPrimitives.WriteInt32LittleEndian(h[(pos + 4)..], fmtSize);
        pos += 8;
        BinaryPrimitives.WriteUInt16LittleEndian(h[pos..], (ushort)(isFloat ? 3 : 1));
        BinaryPrimitives.WriteUInt16LittleEndian(h[(pos + 2)..], (ushort)format.ChannelCount);
        BinaryPrimitives.WriteInt32LittleEndian(h[(pos + 4)..], format.SampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(h[(pos + 8)..], (uint)((long)format.SampleRate * format.BlockAlign));
        BinaryPrimitives.WriteUInt16LittleEndian(h[(pos + 12)..], (ushort)format.BlockAlign);
        BinaryPrimitives.WriteUInt16LittleEndian(h[(pos + 14)..], (ushort)format.BitsPerSample);
        pos += 16;
        factOffset = 0;
        if (isFloat)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(h[pos..], 0); // cbSize: no extension
            pos += 2;
            "fact"u8.CopyTo(h[pos..]);
            BinaryPrimitives.WriteInt32LittleEndian(h[(pos + 4)..], 4);
            factOffset = pos + 8;
            BinaryPrimitives.WriteUInt32LittleEndian(h[factOffset..], (uint)frames);
            pos += 12;
        }

        "data"u8.CopyTo(h[pos..]);
        dataSizeOffset = pos + 4;
        long dataBytes = frames * format.BlockAlign;
        BinaryPrimitives.WriteUInt32LittleEndian(h[dataSizeOffset..], (uint)dataBytes);
        pos += 8;
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], RiffSize(dataSizeOffset, dataBytes));
        return pos;
    }
}
