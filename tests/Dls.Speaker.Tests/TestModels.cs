using Dls.Audio;
using Dls.Audio.IO;
using Dls.Speaker.Encoders;
using Dls.Speaker.Features;
using Dls.Speaker.Verification;

namespace Dls.Speaker.Tests;

/// <summary>Small untrained models and tiny on-disk datasets for fast tests.</summary>
internal static class TestModels
{
    public static readonly GruSpeakerEncoderOptions Tiny = new() { InputSize = 513, HiddenSize = 8, EmbeddingSize = 6 };

    public static SpeakerModel Random(int seed = 0, double threshold = 0.5)
    {
        TorchSharp.torch.manual_seed(seed);
        var encoder = new GruSpeakerEncoder(Tiny);
        encoder.eval();
        return new SpeakerModel(encoder, new SpeakerFeatureOptions(), threshold, null);
    }

    /// <summary>Writes speakers × utterances WAV files of synthetic voices under root/speakers/, plus speakers.csv.</summary>
    public static void WriteDataset(string root, int speakers, int utterances, double seconds = 0.6)
    {
        var csv = new List<string> { "speaker_id,split" };
        for (int s = 0; s < speakers; s++)
        {
            string id = $"spk{s}";
            csv.Add($"{id},{(s % 3 == 2 ? "test" : "train")}");
            Directory.CreateDirectory(Path.Combine(root, "speakers", id));
            for (int u = 0; u < utterances; u++)
                AudioFile.Save(Path.Combine(root, "speakers", id, $"{id}_{u:000}.wav"),
                    new AudioSignal(TestAudio.Voice(90 + 35 * s, 0.6 + 0.25 * s, seconds, seed: 100 * s + u), TestAudio.Rate));
        }
        File.WriteAllLines(Path.Combine(root, "speakers.csv"), csv);
    }
}
