using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dls.Speaker.Encoders;

/// <summary>
/// The recurrence of one GRU direction for one utterance, in managed SIMD code: what libtorch's CPU GRU spends most of
/// a single short utterance on is per-time-step dispatch and thread hand-off around a (1 × H)·(H × 3H) product, not
/// arithmetic. The input projections of all frames come in precomputed (one matrix product in torch); this walks the
/// frames and returns only the mean of the hidden states, which is all the speaker encoder pools.
/// </summary>
/// <remarks>
/// The equations are PyTorch's (gate order r, z, n in the weights):
/// r = σ(gᵢᵣ + W_hr·h + b_hr), z = σ(gᵢ_z + W_hz·h + b_hz), n = tanh(gᵢₙ + r ⊙ (W_hn·h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h,
/// with h₀ = 0. Results agree with torch's GRU to float rounding (the tests hold them to 1e-5).
/// </remarks>
internal static class GruRecurrence
{
    /// <summary>Whether the SIMD path runs in hardware here (it is correct everywhere, but only worth it then).</summary>
    public static bool IsAccelerated => Vector256.IsHardwareAccelerated;

    /// <summary>Runs one direction over all frames and writes the mean hidden state.</summary>
    /// <param name="inputGates">(frames × 3H) row-major: W_ih·x + b_ih per frame, gates r, z, n.</param>
    /// <param name="weightHh">(3H × H) row-major.</param>
    /// <param name="biasHh">3H.</param>
    /// <param name="reverse">Walk the frames from last to first.</param>
    /// <param name="mean">H values: the mean over frames of the hidden state.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MeanHiddenState(ReadOnlySpan<float> inputGates, ReadOnlySpan<float> weightHh, ReadOnlySpan<float> biasHh, bool reverse, Span<float> mean)
    {
        int hidden = mean.Length;
        int gates = 3 * hidden;
        if (weightHh.Length != gates * hidden || biasHh.Length != gates || inputGates.Length % gates != 0 || inputGates.Length == 0)
            throw new ArgumentException($"Expected weights of {gates}×{hidden}, a bias of {gates} and input gates of frames×{gates}; found {weightHh.Length}, {biasHh.Length} and {inputGates.Length} values.");
        int frames = inputGates.Length / gates;
        Span<float> h = hidden <= 1024 ? stackalloc float[hidden] : new float[hidden];
        Span<float> hiddenGates = gates <= 3072 ? stackalloc float[gates] : new float[gates];
        var sum = new double[hidden];
        h.Clear();
        for (int step = 0; step < frames; step++)
        {
            int t = reverse ? frames - 1 - step : step;
            MatVec(weightHh, h, biasHh, hiddenGates);
            Update(inputGates.Slice(t * gates, gates), hiddenGates, h);
            for (int j = 0; j < hidden; j++) sum[j] += h[j];
        }
        for (int j = 0; j < hidden; j++) mean[j] = (float)(sum[j] / frames);
    }

    /// <summary>y = W·x + b for a row-major W of y.Length × x.Length; four rows share each load of x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MatVec(ReadOnlySpan<float> w, ReadOnlySpan<float> x, ReadOnlySpan<float> b, Span<float> y)
    {
        int rows = y.Length, cols = x.Length;
        ref float wr = ref MemoryMarshal.GetReference(w);
        ref float xr = ref MemoryMarshal.GetReference(x);
        int vectorCols = cols - cols % Vector256<float>.Count;
        int r = 0;
        for (; r + 4 <= rows; r += 4)
        {
            var a0 = Vector256<float>.Zero;
            var a1 = Vector256<float>.Zero;
            var a2 = Vector256<float>.Zero;
            var a3 = Vector256<float>.Zero;
            nuint o0 = (nuint)(r * cols), o1 = o0 + (nuint)cols, o2 = o1 + (nuint)cols, o3 = o2 + (nuint)cols;
            for (int k = 0; k < vectorCols; k += Vector256<float>.Count)
            {
                var xv = Vector256.LoadUnsafe(ref xr, (nuint)k);
                a0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref wr, o0 + (nuint)k), xv, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref wr, o1 + (nuint)k), xv, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref wr, o2 + (nuint)k), xv, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref wr, o3 + (nuint)k), xv, a3);
            }
            float s0 = Vector256.Sum(a0), s1 = Vector256.Sum(a1), s2 = Vector256.Sum(a2), s3 = Vector256.Sum(a3);
            for (int k = vectorCols; k < cols; k++)
            {
                s0 += w[(int)o0 + k] * x[k];
                s1 += w[(int)o1 + k] * x[k];
                s2 += w[(int)o2 + k] * x[k];
                s3 += w[(int)o3 + k] * x[k];
            }
            y[r] = s0 + b[r];
            y[r + 1] = s1 + b[r + 1];
            y[r + 2] = s2 + b[r + 2];
            y[r + 3] = s3 + b[r + 3];
        }
        for (; r < rows; r++)
        {
            float s = 0;
            for (int k = 0; k < cols; k++) s += w[r * cols + k] * x[k];
            y[r] = s + b[r];
        }
    }

    /// <summary>One time step's gate arithmetic: h ← (1 − z) ⊙ n + z ⊙ h.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Update(ReadOnlySpan<float> gi, ReadOnlySpan<float> gh, Span<float> h)
    {
        int hidden = h.Length;
        int j = 0;
        var one = Vector256.Create(1f);
        var two = Vector256.Create(2f);
        for (; j + Vector256<float>.Count <= hidden; j += Vector256<float>.Count)
        {
            var r = Sigmoid(Vector256.Create(gi.Slice(j)) + Vector256.Create(gh.Slice(j)), one);
            var z = Sigmoid(Vector256.Create(gi.Slice(hidden + j)) + Vector256.Create(gh.Slice(hidden + j)), one);
            var a = Vector256.Create(gi.Slice(2 * hidden + j)) + r * Vector256.Create(gh.Slice(2 * hidden + j));
            var n = two * Sigmoid(two * a, one) - one;                      // tanh(a) = 2σ(2a) − 1
            var previous = Vector256.Create((ReadOnlySpan<float>)h.Slice(j));
            (n + z * (previous - n)).CopyTo(h.Slice(j));
        }
        for (; j < hidden; j++)
        {
            float r = 1f / (1f + MathF.Exp(-(gi[j] + gh[j])));
            float z = 1f / (1f + MathF.Exp(-(gi[hidden + j] + gh[hidden + j])));
            float n = MathF.Tanh(gi[2 * hidden + j] + r * gh[2 * hidden + j]);
            h[j] = n + z * (h[j] - n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Sigmoid(Vector256<float> x, Vector256<float> one) => one / (one + Vector256.Exp(-x));
}
