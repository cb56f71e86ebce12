using System.Text.Json.Nodes;
using Dls.Models.Checkpoints;
using Dls.Models.Denoising;
using Dls.Models.Tests.Denoising;

namespace Dls.Models.Tests.Checkpoints;

/// <summary>
/// Seeded damage to a checkpoint's sidecar (a value replaced by null, −1, long.MaxValue, 1e308, a string, an empty array or
/// object, 0 or a small number; a key removed; characters overwritten): loading either succeeds or raises
/// <see cref="InvalidDataException"/> with a message — never a JsonException, KeyNotFound, InvalidCast, Overflow or
/// a TorchSharp error from inside the loader.
/// </summary>
public sealed class CheckpointMutationTests
{
    [Fact]
    public void DamagedSidecar_LoadsOrRaisesInvalidDataException()
    {
        using var temp = new TempFolder();
        string original = temp.File("original.ckpt");
        using (var network = new GruMaskNetwork(new GruMaskNetworkOptions(HiddenSize: 4)))
        {
            DenoisingModels.Save(original, network);
        }

        string json = File.ReadAllText(Checkpoint.SidecarPath(original));
        string path = temp.File("damaged.ckpt");
        File.Copy(original, path);
        var rng = new Random(11);
        var outcomes = new Dictionary<string, int>();
        for (int i = 0; i < 600; i++)
        {
            File.WriteAllText(Checkpoint.SidecarPath(path), Damage(json, rng));
            string outcome;
            try
            {
                DenoisingModels.ReadMaskInfo(path);
                var (network, _) = DenoisingModels.Load(path);
                ((TorchSharp.torch.nn.Module)network).Dispose();
                outcome = "loaded";
            }
            catch (InvalidDataException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                outcome = "refused";
            }

            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        // Both outcomes occur: some damage is to metadata a load does not need (a timestamp), most is refused.
        Assert.True(outcomes.GetValueOrDefault("loaded") > 20, string.Join(", ", outcomes));
        Assert.True(outcomes.GetValueOrDefault("refused") > 200, string.Join(", ", outcomes));
    }

    private static string Damage(string json, Random rng)
    {
        if (rng.Next(3) == 0)
        {
            char[] chars = json.ToCharArray();
            for (int k = rng.Next(1, 4); k > 0; k--)
            {
                chars[rng.Next(chars.Length)] = "0123456789-.eE\"{}[],:aZ "[rng.Next(24)];
            }

            return new string(chars);
        }

        JsonNode root = JsonNode.Parse(json)!;
        var places = new List<(JsonNode Parent, object Key)>();
        void Walk(JsonNode? node)
        {
            if (node is JsonObject obj)
            {
                foreach (var (key, value) in obj.ToList())
                {
                    places.Add((obj, key));
                    Walk(value);
                }
            }
            else if (node is JsonArray array)
            {
                for (int i = 0; i < array.Count; i++)
                {
                    places.Add((array, i));
                    Walk(array[i]);
                }
            }
        }

        Walk(root);
        var (parent, at) = places[rng.Next(places.Count)];
        JsonNode? replacement = rng.Next(9) switch
        {
            0 => null,
            1 => JsonValue.Create(-1),
            2 => JsonValue.Create(long.MaxValue),
            3 => JsonValue.Create(1e308),
            4 => JsonValue.Create("x"),
            5 => new JsonArray(),
            6 => new JsonObject(),
            7 => JsonValue.Create(0),
            _ => JsonValue.Create(rng.Next(2000)),
        };
        if (parent is JsonObject o)
        {
            if (rng.Next(5) == 0)
            {
                o.Remove((string)at);
            }
            else
            {
                o[(string)at] = replacement;
            }
        }
        else
        {
            ((JsonArray)parent)[(int)at] = replacement;
        }

        return root.ToJsonString();
    }
}
