using System.Globalization;
using Dls.Samples.Abstractions;
using Dls.Speaker.Metrics;
using Dls.Speaker.Verification;

namespace Dls.Samples.Tests;

/// <summary>The <c>verify</c> and <c>speaker-eval</c> commands on the embedded speakers, against the library's own scores.</summary>
[Collection("TorchGlobalState")]
public sealed class SpeakerCommandsTests
{
    private static readonly string Speakers = Path.Combine(RepoPaths.Root, "samples", "data", "speaker", "speakers");

    private static string Utterance(string speaker, int index) => Path.Combine(Speakers, speaker, $"{speaker}_{index:000}.wav");

    [Fact]
    public async Task Verify_ShippedModel_ScoresAsTheLibraryAndDecidesAgainstTheGivenThreshold()
    {
        string[] enroll = [Utterance("fest_ked", 0), Utterance("fest_ked", 1)];
        string test = Utterance("fest_ked", 2);
        double score;
        using (var library = SpeakerVerifier.Load())
            score = library.VerifyFile(library.EnrollFiles(enroll), test).Score;

        // A threshold just above the score rejects, just below accepts (the shipped verifier from the host's container).
        string above = (score + 0.001).ToString("R", CultureInfo.InvariantCulture), below = (score - 0.001).ToString("R", CultureInfo.InvariantCulture);
        var (code, stdout, stderr) = await HostRunner.RunAsync("verify", "--enroll", enroll[0], enroll[1], "--test", test, "--threshold", above, "--json");
        var (acceptCode, acceptOut, acceptErr) = await HostRunner.RunAsync("verify", "--enroll", enroll[0], enroll[1], "--test", test, "--threshold", below);

        Assert.True(code == 0, stderr);
        var json = HostRunner.LastJsonLine(stdout);
        // The JSON rounds to 6 decimals.
        Assert.Equal(score, (double)json["score"]!, 1e-6);
        Assert.Equal(score + 0.001, (double)json["threshold"]!, 1e-6);
        Assert.False((bool)json["same_speaker"]!);
        Assert.Equal(2, (int)json["enrollment_files"]!);
        Assert.Contains($"score      {score.ToString("F4", CultureInfo.InvariantCulture)} (cosine, enrolled from 2 file(s))", stdout);
        Assert.Contains("decision   different speaker (reject)", stdout);

        Assert.True(acceptCode == 0, acceptErr);
        Assert.Contains($"threshold  {(score - 0.001).ToString("F4", CultureInfo.InvariantCulture)}", acceptOut);
        Assert.Contains("decision   same speaker (accept)", acceptOut);
    }

    [Fact]
    public async Task Verify_ModelFile_LoadsItWithTheGivenThreshold()
    {
        // The shipped model as a file: the same score as the library gives, the threshold the one asked for.
        string model = DefaultSpeakerModel.ExtractedPath();
        string[] enroll = [Utterance("fest_slt", 0)];
        string test = Utterance("fest_ked", 0);
        double score;
        using (var library = SpeakerVerifier.Load(model))
            score = library.VerifyFile(library.EnrollFiles(enroll), test).Score;

        var (code, stdout, stderr) = await HostRunner.RunAsync("verify", "--enroll", enroll[0], "--test", test, "--model", model, "--threshold", "0.25", "--json");

        Assert.True(code == 0, stderr);
        var json = HostRunner.LastJsonLine(stdout);
        Assert.Equal(score, (double)json["score"]!, 1e-6);
        Assert.Equal(0.25, (double)json["threshold"]!);
        Assert.Equal(score >= 0.25, (bool)json["same_speaker"]!);
        Assert.Equal(1, (int)json["enrollment_files"]!);
    }

    [Fact]
    public async Task SpeakerEval_TrialList_ScoresThoseTrialsOnly()
    {
        using var dir = ScratchFolder.Create("dls-speaker-trials-");
        // Paths relative to the data folder (it has no wav/): two same-speaker and three different-speaker trials.
        (bool Target, string First, string Second)[] trials =
        [
            (true, "fest_ked/fest_ked_000.wav", "fest_ked/fest_ked_001.wav"),
            (true, "fest_slt/fest_slt_000.wav", "fest_slt/fest_slt_003.wav"),
            (false, "fest_ked/fest_ked_000.wav", "fest_slt/fest_slt_000.wav"),
            (false, "fest_ked/fest_ked_001.wav", "espk_us_f3/espk_us_f3_000.wav"),
            (false, "fest_slt/fest_slt_003.wav", "espk_us_f3/espk_us_f3_000.wav"),
        ];
        string list = dir.PathFor("trials.txt");
        File.WriteAllLines(list, trials.Select(t => $"{(t.Target ? 1 : 0)} {t.First} {t.Second}"));
        // The EER of these five trials from the library's embeddings of each file, scored by cosine.
        double eer;
        using (var library = SpeakerVerifier.Load())
        {
            double Score((bool, string First, string Second) t) => SpeakerEmbeddings.Cosine(
                library.EmbedFile(Path.Combine(Speakers, t.First)), library.EmbedFile(Path.Combine(Speakers, t.Second)));
            eer = VerificationMetrics.EqualErrorRate(trials.Where(t => t.Target).Select(Score).ToArray(), trials.Where(t => !t.Target).Select(Score).ToArray()).Eer;
        }

        var (code, stdout, stderr) = await HostRunner.RunAsync("speaker-eval", "--data", Speakers, "--trials", list, "--out", dir.PathFor("out"), "--json");

        Assert.True(code == 0, stderr);
        Assert.Contains($"data       trial list {list}", stdout);
        var json = HostRunner.LastJsonLine(stdout);
        Assert.Equal(5, (int)json["trials"]!);
        Assert.Equal(3, (int)json["speakers"]!);
        // Cosines of the same embeddings, batched differently: the EER, interpolated between them, agrees to 1e-5.
        Assert.Equal(eer, (double)json["eer"]!, 1e-5);
        Assert.Null(json["trials_all_pairs"]);   // a given list has no exhaustive companion
    }

    [Fact]
    public async Task SpeakerEval_VoxCelebFolderWithTrialList_ReadsTheTrialPathsUnderWav()
    {
        // A VoxCeleb tree (DIR/wav/<speaker>/<video>/<n>.wav): the trial list's paths are relative to DIR/wav.
        using var dir = ScratchFolder.Create("dls-speaker-vox-");
        string data = dir.PathFor("vox");
        foreach (string speaker in new[] { "fest_ked", "fest_slt" })
            for (int k = 0; k < 2; k++)
            {
                string target = Path.Combine(data, "wav", speaker, "v1", $"{k:00000}.wav");
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(Utterance(speaker, k), target);
            }

        (bool Target, string First, string Second)[] trials =
        [
            (true, "fest_ked/v1/00000.wav", "fest_ked/v1/00001.wav"),
            (true, "fest_slt/v1/00000.wav", "fest_slt/v1/00001.wav"),
            (false, "fest_ked/v1/00000.wav", "fest_slt/v1/00001.wav"),
            (false, "fest_ked/v1/00001.wav", "fest_slt/v1/00000.wav"),
        ];
        string list = dir.PathFor("trials.txt");
        File.WriteAllLines(list, trials.Select(t => $"{(t.Target ? 1 : 0)} {t.First} {t.Second}"));
        double eer;
        using (var library = SpeakerVerifier.Load())
        {
            double Score((bool, string First, string Second) t) => SpeakerEmbeddings.Cosine(
                library.EmbedFile(Path.Combine(data, "wav", t.First)), library.EmbedFile(Path.Combine(data, "wav", t.Second)));
            eer = VerificationMetrics.EqualErrorRate(trials.Where(t => t.Target).Select(Score).ToArray(), trials.Where(t => !t.Target).Select(Score).ToArray()).Eer;
        }

        var (code, stdout, stderr) = await HostRunner.RunAsync("speaker-eval", "--data", data, "--trials", list, "--out", dir.PathFor("out"), "--json");

        Assert.True(code == 0, stderr);
        var json = HostRunner.LastJsonLine(stdout);
        Assert.Equal((4, 2), ((int)json["trials"]!, (int)json["speakers"]!));
        // Cosines of the same embeddings, batched differently: the EER, interpolated between them, agrees to 1e-5.
        Assert.Equal(eer, (double)json["eer"]!, 1e-5);
    }

    [Fact]
    public async Task SpeakerEval_SplitAllWithModelFile_EvaluatesEverySpeakerWithThatModel()
    {
        // speakers.csv puts one of the three speakers in 'test'; --split all takes all three whatever it says.
        using var dir = ScratchFolder.Create("dls-speaker-all-");
        string data = dir.PathFor("data");
        string[] speakers = ["fest_ked", "fest_slt", "espk_us_f3"];
        foreach (string speaker in speakers)
        {
            Directory.CreateDirectory(Path.Combine(data, speaker));
            foreach (string file in Directory.GetFiles(Path.Combine(Speakers, speaker), "*.wav"))
                File.Copy(file, Path.Combine(data, speaker, Path.GetFileName(file)));
        }

        File.WriteAllLines(Path.Combine(data, "speakers.csv"), ["speaker_id,split", "fest_ked,test", "fest_slt,train", "espk_us_f3,train"]);
        int utterances = Directory.GetFiles(Path.Combine(Speakers, "fest_ked"), "*.wav").Length;
        string model = DefaultSpeakerModel.ExtractedPath();
        double threshold;
        using (var library = SpeakerVerifier.Load(model))
            threshold = library.Threshold;

        var (code, stdout, stderr) = await HostRunner.RunAsync("speaker-eval", "--data", data, "--split", "all", "--model", model, "--out", dir.PathFor("out"), "--json");

        Assert.True(code == 0, stderr);
        Assert.Contains("data       all 3 speakers", stdout);
        Assert.Contains($"model      {model}", stdout);
        var json = HostRunner.LastJsonLine(stdout);
        Assert.Equal(3, (int)json["speakers"]!);
        // Every same-speaker pair of each speaker's utterances, and as many different-speaker pairs; all pairs besides.
        int samePairs = 3 * utterances * (utterances - 1) / 2, allPairs = 3 * utterances * ((3 * utterances) - 1) / 2;
        Assert.Equal((2 * samePairs, allPairs), ((int)json["trials"]!, (int)json["trials_all_pairs"]!));
        Assert.Equal(Math.Round(threshold, 6), (double)json["model_threshold"]!);
    }

    [Fact]
    public async Task SpeakerEval_MissingDataFolder_FailsNamingIt()
    {
        using var dir = ScratchFolder.Create("dls-speaker-nodata-");
        string missing = dir.PathFor("no-such-folder");

        var (code, stdout, stderr) = await HostRunner.RunAsync("speaker-eval", "--data", missing, "--out", dir.PathFor("out"));

        Assert.Equal(1, code);
        Assert.Equal($"error: --data: expected an existing folder, found nothing at '{missing}'.", stderr.Split('\n')[0].TrimEnd('\r'));
        Assert.Equal("", stdout);
        Assert.False(Directory.Exists(dir.PathFor("out")));
    }
}
