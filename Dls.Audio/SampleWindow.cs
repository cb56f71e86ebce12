namespace Dls.Audio;

/// <summary>
/// The part of a sample stream still needed, addressed by each sample's index in the stream: samples are appended at
/// the end and discarded from the front once no later step reads them. The building block of block-by-block
/// processing (a resampler's filter window, an STFT's frames, windows of a long recording), where memory must follow
/// what is kept, not the length of the stream.
/// </summary>
/// <remarks>Not thread-safe: one window belongs to one stream.</remarks>
public sealed class SampleWindow
{
    private float[] _buffer;
    private int _offset;   // _buffer[_offset] holds the sample at index Start

    /// <summary>Creates an empty window whose first appended sample gets index <paramref name="startIndex"/>.</summary>
    /// <param name="startIndex">The stream index of the first sample (may be negative, e.g. for zeros before a signal).</param>
    /// <param name="capacity">Initial room in samples (the window grows as needed).</param>
    public SampleWindow(long startIndex = 0, int capacity = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Start = startIndex;
        _buffer = new float[capacity];
    }

    /// <summary>The stream index of the first sample kept.</summary>
    public long Start { get; private set; }

    /// <summary>The number of samples kept.</summary>
    public int Count { get; private set; }

    /// <summary>The stream index after the last sample appended (the number of samples the stream has had, when it started at 0).</summary>
    public long End => Start + Count;

    /// <summary>The sample at stream index <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is not in [<see cref="Start"/>, <see cref="End"/>).</exception>
    public float this[long index]
    {
        get
        {
            if (index < Start || index >= End)
            {
                throw OutOfWindow(nameof(index), index, 1);
            }

            return _buffer[_offset + (int)(index - Start)];
        }
    }

    /// <summary>Appends samples at the end (stream indices <see cref="End"/> on).</summary>
    /// <param name="samples">The next samples of the stream.</param>
    public void Append(ReadOnlySpan<float> samples)
    {
        if (_offset + Count + samples.Length > _buffer.Length)
        {
            // A slice of this window (from Slice) would be moved under the copy below: take it out first.
            if (samples.Overlaps(_buffer))
            {
                samples = samples.ToArray();
            }

            // Move the kept samples to the front first; grow only if they and the new ones still do not fit.
            if (Count + samples.Length > _buffer.Length)
            {
                if ((long)Count + samples.Length > Array.MaxLength)
                {
                    throw new InvalidOperationException(
                        $"A sample window holds at most {Array.MaxLength} samples; {Count} are kept and {samples.Length} more were appended (discard what is no longer needed first).");
                }

                var grown = new float[(int)Math.Min(Array.MaxLength, Math.Max((long)Count + samples.Length, 2L * _buffer.Length))];
                _buffer.AsSpan(_offset, Count).CopyTo(grown);
                _buffer = grown;
            }
            else
            {
                _buffer.AsSpan(_offset, Count).CopyTo(_buffer);
            }

            _offset = 0;
        }

        samples.CopyTo(_buffer.AsSpan(_offset + Count));
        Count += samples.Length;
    }

    /// <summary>Discards the samples before stream index <paramref name="index"/> (all of them if it is past the end; nothing if it is before the start).</summary>
    /// <param name="index">The first stream index still needed.</param>
    public void DiscardBefore(long index)
    {
        if (index <= Start)
        {
            return;
        }

        // index − Start > 0 here, and cannot wrap: both lie in the range of long and index > Start.
        ulong ahead = (ulong)index - (ulong)Start;
        int drop = ahead >= (ulong)Count ? Count : (int)ahead;
        _offset += drop;
        Start += drop;
        Count -= drop;
        if (Count == 0)
        {
            _offset = 0;
        }
    }

    /// <summary>The kept samples at stream indices [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>).</summary>
    /// <param name="start">The stream index of the first sample.</param>
    /// <param name="length">The number of samples.</param>
    /// <returns>A view valid until the next <see cref="Append"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Part of the range is not kept.</exception>
    public ReadOnlySpan<float> Slice(long start, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (start < Start || start + length > End)
        {
            throw OutOfWindow(nameof(start), start, length);
        }

        return _buffer.AsSpan(_offset + (int)(start - Start), length);
    }

    private ArgumentOutOfRangeException OutOfWindow(string name, long start, int length) =>
        new(name, start, $"Expected samples within the kept stream indices [{Start}, {End}); asked for [{start}, {start + length}).");
}
