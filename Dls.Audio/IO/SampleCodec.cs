using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Dls.Audio.IO;

/// <summary>
/// Converts between little-endian WAV sample bytes and floats, with libsndfile's scaling: integer PCM is divided by
/// 2^(bits−1) on reading and multiplied by the same factor (rounded, clipped) on writing, so integer → float →
/// integer is exact for 8, 16 and 24 bits. 8-bit PCM is unsigned and centred on 128.
/// </summary>
internal static class SampleCodec
{
    private const float Scale16 = 1f / 32768f;
    private const float Scale24 = 1f / 8388608f;
    private const double Scale32 = 1.0 / 2147483648.0;

    static SampleCodec()
    {
        if (!BitConverter.IsLittleEndian)
        {
            // The fast paths reinterpret the byte buffer in place, which is only right on little-endian machines.
            throw new PlatformNotSupportedException("Dls.Audio WAV coding requires a little-endian processor.");
        }
    }

    /// <summary>Decodes <paramref name="source"/> (whole samples) into <paramref name="destination"/>.</summary>
    public static void Decode(ReadOnlySpan<byte> source, Span<float> destination, WavSampleFormat format)
    {
        switch (format)
        {
            case WavSampleFormat.PcmU8:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = (source[i] - 128) * (1f / 128f);
                }

                break;
            case WavSampleFormat.Pcm16:
                DecodePcm16(MemoryMarshal.Cast<byte, short>(source[..(2 * destination.Length)]), destination);
                break;
            case WavSampleFormat.Pcm24:
                for (int i = 0, j = 0; i < destination.Length; i++, j += 3)
                {
                    // Assemble in the top 24 bits of an int so the arithmetic shift sign-extends.
                    int v = (source[j] << 8) | (source[j + 1] << 16) | (source[j + 2] << 24);
                    destination[i] = (v >> 8) * Scale24;
                }

                break;
            case WavSampleFormat.Pcm32:
                {
                    ReadOnlySpan<int> ints = MemoryMarshal.Cast<byte, int>(source[..(4 * destination.Length)]);
                    for (int i = 0; i < destination.Length; i++)
                    {
                        destination[i] = (float)(ints[i] * Scale32);
                    }

                    break;
                }

            case WavSampleFormat.Float32:
                MemoryMarshal.Cast<byte, float>(source[..(4 * destination.Length)]).CopyTo(destination);
                break;
            case WavSampleFormat.Float64:
                {
                    ReadOnlySpan<double> doubles = MemoryMarshal.Cast<byte, double>(source[..(8 * destination.Length)]);
                    for (int i = 0; i < destination.Length; i++)
                    {
                        destination[i] = (float)doubles[i];
                    }

                    break;
                }

            default:
                throw WavSampleFormatExtensions.Undefined(format);
        }
    }

    private static void DecodePcm16(ReadOnlySpan<short> source, Span<float> destination)
    {
        ref short s = ref MemoryMarshal.GetReference(source);
        ref float d = ref MemoryMarshal.GetReference(destination);
        int n = destination.Length;
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated && n >= System.Numerics.Vector<short>.Count)
        {
            int width = System.Numerics.Vector<short>.Count;
            int floatWidth = System.Numerics.Vector<float>.Count;
            var scale = new System.Numerics.Vector<float>(Scale16);
            for (; i <= n - width; i += width)
            {
                var v = System.Numerics.Vector.LoadUnsafe(ref s, (nuint)i);
                System.Numerics.Vector.Widen(v, out System.Numerics.Vector<int> lo, out System.Numerics.Vector<int> hi);
                System.Numerics.Vector.StoreUnsafe(System.Numerics.Vector.ConvertToSingle(lo) * scale, ref d, (nuint)i);
                System.Numerics.Vector.StoreUnsafe(System.Numerics.Vector.ConvertToSingle(hi) * scale, ref d, (nuint)(i + floatWidth));
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref d, i) = Unsafe.Add(ref s, i) * Scale16;
        }
    }

    /// <summary>Encodes <paramref name="source"/> into <paramref name="destination"/> (whole samples), clipping integer formats.</summary>
    public static void Encode(ReadOnlySpan<float> source, Span<byte> destination, WavSampleFormat format)
    {
        switch (format)
        {
            case WavSampleFormat.PcmU8:
                for (int i = 0; i < source.Length; i++)
                {
                    destination[i] = (byte)(Quantize(source[i], 128f, -128, 127) + 128);
                }

                break;
            case WavSampleFormat.Pcm16:
                EncodePcm16(source, MemoryMarshal.Cast<byte, short>(destination[..(2 * source.Length)]));
                break;

            case WavSampleFormat.Pcm24:
                for (int i = 0, j = 0; i < source.Length; i++, j += 3)
                {
                    int v = Quantize(source[i], 8388608f, -8388608, 8388607);
                    destination[j] = (byte)v;
                    destination[j + 1] = (byte)(v >> 8);
                    destination[j + 2] = (byte)(v >> 16);
                }

                break;
            case WavSampleFormat.Pcm32:
                {
                    Span<int> ints = MemoryMarshal.Cast<byte, int>(destination[..(4 * source.Length)]);
                    for (int i = 0; i < source.Length; i++)
                    {
                        double v = Math.Round(source[i] * 2147483648.0, MidpointRounding.ToEven);
                        ints[i] = double.IsNaN(v) ? 0 : (int)Math.Clamp(v, int.MinValue, int.MaxValue);
                    }

                    break;
                }

            case WavSampleFormat.Float32:
                source.CopyTo(MemoryMarshal.Cast<byte, float>(destination[..(4 * source.Length)]));
                break;
            case WavSampleFormat.Float64:
                for (int i = 0; i < source.Length; i++)
                {
                    BinaryPrimitives.WriteDoubleLittleEndian(destination.Slice(8 * i, 8), source[i]);
                }

                break;
            default:
                throw WavSampleFormatExtensions.Undefined(format);
        }
    }

    private static void EncodePcm16(ReadOnlySpan<float> source, Span<short> destination)
    {
        ref float s = ref MemoryMarshal.GetReference(source);
        ref short d = ref MemoryMarshal.GetReference(destination);
        int n = source.Length;
        int i = 0;
        int width = System.Numerics.Vector<float>.Count;
        if (System.Numerics.Vector.IsHardwareAccelerated && n >= 2 * width)
        {
            // Same arithmetic as Quantize, two float vectors at a time: scale, round half to even, NaN → 0, clip, narrow.
            var scale = new System.Numerics.Vector<float>(32768f);
            var min = new System.Numerics.Vector<float>(short.MinValue);
            var max = new System.Numerics.Vector<float>(short.MaxValue);
            for (; i <= n - (2 * width); i += 2 * width)
            {
                var a = System.Numerics.Vector.LoadUnsafe(ref s, (nuint)i) * scale;
                var b = System.Numerics.Vector.LoadUnsafe(ref s, (nuint)(i + width)) * scale;
                a = System.Numerics.Vector.ConditionalSelect(System.Numerics.Vector.Equals(a, a), a, System.Numerics.Vector<float>.Zero);
                b = System.Numerics.Vector.ConditionalSelect(System.Numerics.Vector.Equals(b, b), b, System.Numerics.Vector<float>.Zero);
                a = System.Numerics.Vector.Min(System.Numerics.Vector.Max(System.Numerics.Vector.Round(a), min), max);
                b = System.Numerics.Vector.Min(System.Numerics.Vector.Max(System.Numerics.Vector.Round(b), min), max);
                var narrowed = System.Numerics.Vector.Narrow(System.Numerics.Vector.ConvertToInt32(a), System.Numerics.Vector.ConvertToInt32(b));
                System.Numerics.Vector.StoreUnsafe(narrowed, ref d, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref d, i) = (short)Quantize(Unsafe.Add(ref s, i), 32768f, short.MinValue, short.MaxValue);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Quantize(float value, float scale, int min, int max)
    {
        // Round half to even like lrintf; NaN becomes silence rather than an arbitrary integer.
        float v = MathF.Round(value * scale, MidpointRounding.ToEven);
        if (v >= max)
        {
            return max;
        }

        if (v <= min)
        {
            return min;
        }

        return float.IsNaN(v) ? 0 : (int)v;
    }
}
