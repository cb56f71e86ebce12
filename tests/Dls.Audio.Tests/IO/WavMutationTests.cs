using Dls.Audio.IO;

namespace Dls.Audio.Tests.IO;

/// <summary>
/// Seeded mutations of valid WAV files (stereo, in every sample format the writer makes):
/// whatever the damage, the reader either reads the whole declared data or raises one of its documented exceptions with
/// a message — never an IndexOutOfRange, Overflow, OutOfMemory or EndOfStream error from inside the parser.
/// </summary>
public sealed class WavMutationTests
{
    private static List<byte[]> Seeds()
    {
        float[] signal = Enumerable.Range(0, 3000).Select(i => 0.5f * MathF.Sin(i * 0.05f)).ToArray();
        var seeds = new List<byte[]>();
        foreach (WavSampleFormat format in Enum.GetValues<WavSampleFormat>())
        {
            var stream = new MemoryStream();
            WavFile.Write(stream, new WavData(16000, [signal, signal], format));
            seeds.Add(stream.ToArray());
        }

        return seeds;
    }

    /// <summary>Hands out at most 7 bytes per read and cannot seek: the reader's streaming path.</summary>
    private sealed class TrickleStream(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 7));

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    public void MutatedFiles_ReadWholeOrRaiseDocumentedExceptions(int seed, bool streaming)
    {
        // 3,000 files per case: header bytes overwritten, files cut short, 32-bit fields set to edge values (−1, int.MaxValue,
        // 0, random), single bits flipped anywhere. A throwaway probe of 300,000 such files (mono seeds and the tests'
        // reference WAV files among them) found only these two exception types.
        List<byte[]> seeds = Seeds();
        var rng = new Random(seed);
        var outcomes = new Dictionary<string, int>();
        for (int i = 0; i < 3000; i++)
        {
            byte[] bytes = Mutate((byte[])seeds[rng.Next(seeds.Count)].Clone(), rng);
            Stream stream = new MemoryStream(bytes);
            if (streaming)
            {
                stream = new TrickleStream(stream);
            }

            string outcome;
            try
            {
                using var reader = new WavReader(stream);
                var buffer = new float[512 * reader.Format.ChannelCount];
                long frames = 0;
                int read;
                while ((read = reader.ReadFrames(buffer)) > 0)
                {
                    frames += read;
                }

                Assert.Equal(reader.FrameCount, frames);   // a file that reads at all reads exactly what it declares
                outcome = "read";
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                outcome = e.GetType().Name;
            }

            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        // Both outcomes occur, so the mutations reach past the header checks as well as into them.
        Assert.True(outcomes.GetValueOrDefault("read") > 100, string.Join(", ", outcomes));
        Assert.True(outcomes.GetValueOrDefault(nameof(InvalidDataException)) > 100, string.Join(", ", outcomes));
    }

    private static byte[] Mutate(byte[] bytes, Random rng)
    {
        switch (rng.Next(4))
        {
            case 0:
                for (int k = rng.Next(1, 6); k > 0; k--)
                {
                    bytes[rng.Next(Math.Min(bytes.Length, 300))] = (byte)rng.Next(256);
                }

                return bytes;
            case 1:
                return bytes[..rng.Next(bytes.Length)];
            case 2:
                int value = rng.Next(5) switch { 0 => -1, 1 => int.MaxValue, 2 => 0, 3 => rng.Next(), _ => rng.Next(100) };
                BitConverter.GetBytes(value).CopyTo(bytes, rng.Next(Math.Min(bytes.Length - 4, 296)));
                return bytes;
            default:
                for (int k = rng.Next(1, 4); k > 0; k--)
                {
                    bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8));
                }

                return bytes;
        }
    }
}
