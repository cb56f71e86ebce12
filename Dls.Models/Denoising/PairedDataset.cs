using System.Globalization;
using System.Text.RegularExpressions;
using Dls.Audio.IO;

namespace Dls.Models.Denoising;

/// <summary>
/// Lists and validates the noisy/clean pairs of a folder in the homework layout (<c>trx/trs/trn</c>,
/// <c>tex/tes/ten</c>) or the VoiceBank-DEMAND layout (<c>clean_*</c> and <c>noisy_*</c> sub-folders).
/// Only file names are checked here; audio is read by the caller.
/// </summary>
public static partial class PairedDataset
{
    /// <summary>Finds which layout <paramref name="directory"/> has.</summary>
    /// <param name="directory">The dataset folder.</param>
    /// <returns>The layout.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">The folder has neither layout, or several clean*/noisy* sub-folders.</exception>
    public static DenoisingLayout DetectLayout(string directory)
    {
        RequireDirectory(directory);
        if (AudioFile.ListWavFiles(directory).Any(f => HomeworkName().IsMatch(Path.GetFileName(f))))
        {
            return DenoisingLayout.Homework;
        }

        if (FindVoiceBankFolders(directory) is not null)
        {
            return DenoisingLayout.VoiceBank;
        }

        throw new InvalidDataException(
            $"'{directory}' is not a paired denoising dataset: expected either homework-layout files " +
            "(trx0000.wav/trs0000.wav/trn0000.wav or tex/tes/ten) or VoiceBank-layout sub-folders named clean_* and noisy_*; " +
            $"found {AudioFile.ListWavFiles(directory).Count()} WAV files and sub-folders [{Shown(Directory.EnumerateDirectories(directory).Select(Path.GetFileName))}].");
    }

    /// <summary>Lists the pairs of <paramref name="directory"/>, detecting its layout.</summary>
    /// <param name="directory">The dataset folder.</param>
    /// <returns>The pairs, sorted by name.</returns>
    /// <exception cref="InvalidDataException">The folder has neither layout, several clean*/noisy* sub-folders, unpaired files or no pairs.</exception>
    public static IReadOnlyList<DenoisingPair> List(string directory) => List(directory, DetectLayout(directory));

    /// <summary>Lists the pairs of <paramref name="directory"/> in the given layout.</summary>
    /// <param name="directory">The dataset folder.</param>
    /// <param name="layout">The layout to expect.</param>
    /// <returns>The pairs, sorted by name (never empty).</returns>
    /// <exception cref="InvalidDataException">A file lacks its partner, there are no pairs, or (VoiceBank) there are several clean*/noisy* sub-folders.</exception>
    public static IReadOnlyList<DenoisingPair> List(string directory, DenoisingLayout layout)
    {
        RequireDirectory(directory);
        return layout switch
        {
            DenoisingLayout.Homework => ListHomework(directory),
            DenoisingLayout.VoiceBank => ListVoiceBank(directory),
            _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "Expected Homework or VoiceBank."),
        };
    }

    private static List<DenoisingPair> ListHomework(string directory)
    {
        // Mixture prefix trx/tex; clean trs/tes; noise trn/ten; the set letter (r = train, e = test) must agree.
        var files = AudioFile.ListWavFiles(directory)
            .Select(Path.GetFileName)
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);
        var pairs = new List<DenoisingPair>();
        var problems = new List<string>();
        foreach (string file in files.Order(StringComparer.Ordinal))
        {
            Match m = HomeworkName().Match(file);
            if (!m.Success || m.Groups["kind"].Value != "x")
            {
                continue;
            }

            string set = m.Groups["set"].Value, index = m.Groups["index"].Value;
            string clean = $"t{set}s{index}.wav", noise = $"t{set}n{index}.wav";
            if (!files.Contains(clean))
            {
                problems.Add($"{file} has no clean file {clean}");
                continue;
            }

            pairs.Add(new DenoisingPair(
                file,
                Path.Combine(directory, file),
                Path.Combine(directory, clean),
                files.Contains(noise) ? Path.Combine(directory, noise) : null));
        }

        foreach (string file in files)
        {
            Match m = HomeworkName().Match(file);
            if (m.Success && m.Groups["kind"].Value == "s" && !files.Contains($"t{m.Groups["set"].Value}x{m.Groups["index"].Value}.wav"))
            {
                problems.Add($"{file} has no mixture t{m.Groups["set"].Value}x{m.Groups["index"].Value}.wav");
            }
        }

        return Validated(directory, "homework", pairs, problems);
    }

    private static List<DenoisingPair> ListVoiceBank(string directory)
    {
        (string clean, string noisy) = FindVoiceBankFolders(directory) ?? throw new InvalidDataException(
            $"'{directory}' has no VoiceBank layout: expected one sub-folder named clean* and one named noisy*, found [{Shown(Directory.EnumerateDirectories(directory).Select(Path.GetFileName))}].");
        var cleanFiles = AudioFile.ListWavFiles(clean).Select(Path.GetFileName).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var pairs = new List<DenoisingPair>();
        var problems = new List<string>();
        foreach (string file in AudioFile.ListWavFiles(noisy).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal))
        {
            if (cleanFiles.Remove(file))
            {
                pairs.Add(new DenoisingPair(file, Path.Combine(noisy, file), Path.Combine(clean, file), null));
            }
            else
            {
                problems.Add($"{Path.GetFileName(noisy)}/{file} has no {Path.GetFileName(clean)}/{file}");
            }
        }

        problems.AddRange(cleanFiles.Order(StringComparer.Ordinal).Select(f => $"{Path.GetFileName(clean)}/{f} has no {Path.GetFileName(noisy)}/{f}"));
        return Validated(directory, "VoiceBank", pairs, problems);
    }

    private static List<DenoisingPair> Validated(string directory, string layout, List<DenoisingPair> pairs, List<string> problems)
    {
        if (problems.Count > 0)
        {
            string shown = string.Join("; ", problems.Take(5));
            throw new InvalidDataException(
                $"'{directory}' ({layout} layout): {problems.Count} unpaired file(s): {shown}{(problems.Count > 5 ? "; …" : string.Empty)}.");
        }

        if (pairs.Count == 0)
        {
            throw new InvalidDataException($"'{directory}' ({layout} layout) has no noisy/clean pairs (expected at least 1, found 0).");
        }

        return pairs;
    }

    private static string Shown(IEnumerable<string?> names)
    {
        string[] all = names.OfType<string>().Order(StringComparer.Ordinal).ToArray();
        return string.Join(", ", all.Take(8)) + (all.Length > 8 ? $", … ({all.Length} in all)" : string.Empty);
    }

    private static (string Clean, string Noisy)? FindVoiceBankFolders(string directory)
    {
        string[] subs = Directory.EnumerateDirectories(directory).ToArray();
        string[] clean = subs.Where(d => Path.GetFileName(d).StartsWith("clean", StringComparison.OrdinalIgnoreCase)).ToArray();
        string[] noisy = subs.Where(d => Path.GetFileName(d).StartsWith("noisy", StringComparison.OrdinalIgnoreCase)).ToArray();
        if (clean.Length == 0 || noisy.Length == 0)
        {
            return null;
        }

        if (clean.Length > 1 || noisy.Length > 1)
        {
            // The VoiceBank-DEMAND root holds both splits (clean_testset_wav, clean_trainset_28spk_wav, …): which pairs
            // with which is a choice the caller has to make.
            throw new InvalidDataException(
                $"'{directory}' has {clean.Length} clean* and {noisy.Length} noisy* sub-folders [{Shown(clean.Concat(noisy).Select(Path.GetFileName))}]; " +
                "expected exactly one of each. Pass the folder of one split (one clean* and one noisy* sub-folder, e.g. clean_testset_wav and noisy_testset_wav).");
        }

        return (clean[0], noisy[0]);
    }

    private static void RequireDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException(File.Exists(directory)
                ? $"Dataset folder '{Path.GetFullPath(directory)}': expected a folder of WAV pairs, found a file."
                : $"Dataset folder '{Path.GetFullPath(directory)}' does not exist.");
        }
    }

    /// <summary>Formats a pair index the way the homework layout names files (four digits).</summary>
    internal static string HomeworkIndex(int index) => index.ToString("D4", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^t(?<set>[re])(?<kind>[xsn])(?<index>\d+)\.wav$", RegexOptions.CultureInvariant)]
    private static partial Regex HomeworkName();
}
