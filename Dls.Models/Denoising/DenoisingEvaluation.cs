using Dls.Audio;
using Dls.Audio.Metrics;

namespace Dls.Models.Denoising;

/// <summary>Scores of one denoised file (dB, higher is better).</summary>
/// <param name="Name">The file.</param>
/// <param name="InputSnrDb">SNR of the mixture against the clean reference.</param>
/// <param name="OutputSnrDb">SNR of the denoised output.</param>
/// <param name="InputSiSdrDb">SI-SDR of the mixture.</param>
/// <param name="OutputSiSdrDb">SI-SDR of the output.</param>
/// <param name="OracleIrmSnrDb">SNR after the ideal ratio mask, when the noise is known.</param>
/// <param name="OraclePowerSnrDb">SNR after the power ratio mask, when the noise is known.</param>
public sealed record DenoisingFileScore(
    string Name,
    double InputSnrDb,
    double OutputSnrDb,
    double InputSiSdrDb,
    double OutputSiSdrDb,
    double? OracleIrmSnrDb,
    double? OraclePowerSnrDb)
{
    /// <summary>Output minus input SNR.</summary>
    public double SnrImprovementDb => OutputSnrDb - InputSnrDb;

    /// <summary>Output minus input SI-SDR.</summary>
    public double SiSdrImprovementDb => OutputSiSdrDb - InputSiSdrDb;
}

/// <summary>Means over the files of a dataset (dB).</summary>
/// <param name="Files">Per-file scores (at least one, none null).</param>
/// <exception cref="ArgumentNullException"><paramref name="Files"/> is null.</exception>
/// <exception cref="ArgumentException"><paramref name="Files"/> is empty or holds a null score (index named).</exception>
public sealed record DenoisingReport(IReadOnlyList<DenoisingFileScore> Files)
{
    /// <summary>Per-file scores (at least one, none null).</summary>
    public IReadOnlyList<DenoisingFileScore> Files { get; init; } = CheckFiles(Files);

    /// <summary>Mean input SNR.</summary>
    public double InputSnrDb => Files.Average(f => f.InputSnrDb);

    /// <summary>Mean output SNR.</summary>
    public double OutputSnrDb => Files.Average(f => f.OutputSnrDb);

    /// <summary>Mean SNR improvement.</summary>
    public double SnrImprovementDb => Files.Average(f => f.SnrImprovementDb);

    /// <summary>Mean SI-SDR improvement.</summary>
    public double SiSdrImprovementDb => Files.Average(f => f.SiSdrImprovementDb);

    /// <summary>Mean SNR improvement of the ideal ratio mask, when every file has its noise.</summary>
    public double? OracleIrmImprovementDb => Files.All(f => f.OracleIrmSnrDb.HasValue) ? Files.Average(f => f.OracleIrmSnrDb!.Value - f.InputSnrDb) : null;

    /// <summary>Mean SNR improvement of the power ratio mask, when every file has its noise.</summary>
    public double? OraclePowerImprovementDb => Files.All(f => f.OraclePowerSnrDb.HasValue) ? Files.Average(f => f.OraclePowerSnrDb!.Value - f.InputSnrDb) : null;

    // Checked here because every mean above needs at least one score; otherwise the properties, not the constructor, threw.
    private static IReadOnlyList<DenoisingFileScore> CheckFiles(IReadOnlyList<DenoisingFileScore> files)
    {
        ArgumentNullException.ThrowIfNull(files, nameof(Files));
        if (files.Count == 0)
        {
            throw new ArgumentException("Expected at least one file score; found 0.", nameof(Files));
        }

        for (int i = 0; i < files.Count; i++)
        {
            if (files[i] is null)
            {
                throw new ArgumentException($"Expected file scores; found null at index {i} (of {files.Count}).", nameof(Files));
            }
        }

        return files;
    }
}

/// <summary>Scores a denoising function on paired examples.</summary>
public static class DenoisingEvaluation
{
    /// <summary>Denoises every example and scores input and output against the clean reference.</summary>
    /// <param name="examples">The pairs.</param>
    /// <param name="denoise">Maps a mixture to its denoised version (same length).</param>
    /// <param name="includeOracles">Also score the oracle masks where the noise is known.</param>
    /// <param name="cancellationToken">Stops between files.</param>
    /// <returns>The report (at least one file).</returns>
    /// <exception cref="ArgumentException">
    /// No example, a null one, one whose noisy or clean signal is null, empty, of another length than the other or has
    /// a non-finite sample (refused before the denoiser is called), or one that cannot be scored (e.g. a silent clean
    /// reference); the message names it.
    /// </exception>
    /// <exception cref="InvalidOperationException">The denoiser returned null, the wrong length or a non-finite sample for an example (named).</exception>
    public static DenoisingReport Evaluate(
        IReadOnlyList<DenoisingExample> examples,
        Func<float[], float[]> denoise,
        bool includeOracles = true,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(denoise);
        if (examples.Count == 0)
        {
            throw new ArgumentException("Expected at least one example; found 0.", nameof(examples));
        }

        var scores = new List<DenoisingFileScore>(examples.Count);
        for (int index = 0; index < examples.Count; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            DenoisingExample e = examples[index] ?? throw new ArgumentException($"Expected examples; found null at index {index}.", nameof(examples));
            // Before the denoiser runs, so that a bad example is not blamed on the denoiser's output.
            if (DenoisingExample.Defect(e, requireAudibleClean: false) is { } defect)
            {
                throw new ArgumentException($"Example '{e.Name}' (index {index}) {defect}.", nameof(examples));
            }

            float[]? output = denoise(e.Noisy);
            if (output is null)
            {
                throw new InvalidOperationException($"The denoiser returned null for example '{e.Name}' (index {index}); expected {e.Clean.Length} samples.");
            }

            if (output.Length != e.Clean.Length)
            {
                throw new InvalidOperationException($"The denoiser returned {output.Length} samples for '{e.Name}'; expected {e.Clean.Length}.");
            }

            int bad = SampleChecks.IndexOfNonFinite(output);
            if (bad >= 0)
            {
                throw new InvalidOperationException($"The denoiser returned a non-finite sample ({output[bad]}) at index {bad} for '{e.Name}' (example {index}); expected finite samples.");
            }

            try
            {
                double? irm = null, power = null;
                if (includeOracles && e.Noise is not null)
                {
                    irm = SignalMetrics.SnrDb(e.Clean, OracleMask.Apply(e.Noisy, e.Clean, e.Noise, OracleMaskKind.IdealRatio));
                    power = SignalMetrics.SnrDb(e.Clean, OracleMask.Apply(e.Noisy, e.Clean, e.Noise, OracleMaskKind.PowerRatio));
                }

                scores.Add(new DenoisingFileScore(
                    e.Name,
                    SignalMetrics.SnrDb(e.Clean, e.Noisy),
                    SignalMetrics.SnrDb(e.Clean, output),
                    SignalMetrics.SiSdrDb(e.Clean, e.Noisy),
                    SignalMetrics.SiSdrDb(e.Clean, output),
                    irm,
                    power));
            }
            catch (ArgumentException ex)
            {
                // The output was checked above, so what the metrics reject is the example itself (e.g. a silent clean reference).
                throw new ArgumentException($"Example '{e.Name}' (index {index}) cannot be scored: {ex.Message}", nameof(examples), ex);
            }
        }

        return new DenoisingReport(scores);
    }
}
