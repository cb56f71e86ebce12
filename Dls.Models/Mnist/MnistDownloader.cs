using System.Security.Cryptography;
using Dls.Audio.IO;

namespace Dls.Models.Mnist;

/// <summary>Where and how <see cref="MnistDownloader"/> fetches the full MNIST files.</summary>
public sealed record MnistDownloadOptions
{
    /// <summary>The canonical mirrors, tried in order (the original site often refuses automated downloads).</summary>
    public static IReadOnlyList<Uri> CanonicalMirrors { get; } =
    [
        new("https://ossci-datasets.s3.amazonaws.com/mnist/"),
        new("https://storage.googleapis.com/cvdf-datasets/mnist/"),
        new("http://yann.lecun.com/exdb/mnist/"),
    ];

    /// <summary>
    /// SHA-256 of the four canonical gzipped files (60,000 training and 10,000 test digits), as published alongside
    /// the mirrors and used by torchvision and TensorFlow.
    /// </summary>
    public static IReadOnlyDictionary<string, string> CanonicalSha256 { get; } = new Dictionary<string, string>
    {
        ["train-images-idx3-ubyte.gz"] = "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ["train-labels-idx1-ubyte.gz"] = "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ["t10k-images-idx3-ubyte.gz"] = "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ["t10k-labels-idx1-ubyte.gz"] = "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    };

    /// <summary>
    /// Base URIs of the folders holding the files (absolute http or https, no query or fragment), tried in order; each
    /// file's name is appended. A missing trailing '/' is appended too, so <c>https://host/mnist</c> means the folder
    /// <c>mnist/</c>, not its parent. Default <see cref="CanonicalMirrors"/>.
    /// </summary>
    public IReadOnlyList<Uri> Mirrors { get; init; } = CanonicalMirrors;

    /// <summary>
    /// File name (no folder) → expected SHA-256 as 64 hexadecimal digits, compared case-insensitively. Default
    /// <see cref="CanonicalSha256"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string> Sha256 { get; init; } = CanonicalSha256;

    /// <summary>Largest accepted file in bytes, at least 1, to stop a misbehaving server early. Default 64 MiB.</summary>
    public long MaxBytes { get; init; } = 64L << 20;

    /// <summary>Every problem, one message per problem naming the option; empty when valid.</summary>
    /// <returns>The problems.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Mirrors is null)
        {
            errors.Add($"{nameof(Mirrors)} must not be null.");
        }
        else if (Mirrors.Count == 0)
        {
            errors.Add($"{nameof(Mirrors)} must hold at least one base URI, got none.");
        }
        else
        {
            for (int i = 0; i < Mirrors.Count; i++)
            {
                var mirror = Mirrors[i];
                if (mirror is null)
                    errors.Add($"{nameof(Mirrors)}[{i}] must not be null.");
                else if (!mirror.IsAbsoluteUri || (mirror.Scheme != Uri.UriSchemeHttp && mirror.Scheme != Uri.UriSchemeHttps))
                    errors.Add($"{nameof(Mirrors)}[{i}] must be an absolute http or https URI, got '{mirror.OriginalString}'.");
                else if (mirror.Query.Length > 0 || mirror.Fragment.Length > 0)
                    errors.Add($"{nameof(Mirrors)}[{i}] must be a folder URI without query or fragment (file names are appended to its path), got '{mirror.OriginalString}'.");
            }
        }

        if (Sha256 is null)
        {
            errors.Add($"{nameof(Sha256)} must not be null.");
        }
        else if (Sha256.Count == 0)
        {
            errors.Add($"{nameof(Sha256)} must name at least one file, got none.");
        }
        else
        {
            foreach (var (name, hash) in Sha256)
            {
                // The name becomes both a path in the target folder and a URI relative to the mirror.
                if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(['/', '\\']) >= 0 || name is "." or "..")
                    errors.Add($"{nameof(Sha256)} keys must be plain file names, got '{name}'.");
                if (hash is null || hash.Length != 64 || !hash.All(Uri.IsHexDigit))
                    errors.Add($"{nameof(Sha256)}['{name}'] must be 64 hexadecimal digits, got {(hash is null ? "null" : $"'{hash}'")}.");
            }
        }

        if (MaxBytes < 1)
            errors.Add($"{nameof(MaxBytes)} must be positive, got {MaxBytes}.");
        return errors;
    }
}

/// <summary>
/// Opt-in download of the full MNIST data set for machines with internet. Each file is verified against its SHA-256
/// before it is moved (atomically) into place; files already present with the right hash are not fetched again.
/// </summary>
public sealed class MnistDownloader
{
    private readonly HttpClient http;
    private readonly Uri[] mirrors;
    private readonly KeyValuePair<string, string>[] sha256;
    private readonly long maxBytes;

    /// <summary>Creates a downloader.</summary>
    /// <param name="http">The client to use (owned by the caller).</param>
    /// <param name="options">Mirrors and hashes; null uses the canonical ones.</param>
    /// <exception cref="ArgumentException">The options are invalid (every problem is listed; see <see cref="MnistDownloadOptions.Validate"/>).</exception>
    public MnistDownloader(HttpClient http, MnistDownloadOptions? options = null)
    {
        this.http = http ?? throw new ArgumentNullException(nameof(http));
        options ??= new MnistDownloadOptions();
        var errors = options.Validate();
        if (errors.Count > 0)
            throw new ArgumentException($"Invalid {nameof(MnistDownloadOptions)}: " + string.Join(" ", errors), nameof(options));
        // Snapshots of what was validated: the caller's lists may change later. A base URI without a trailing '/' would
        // lose its last segment when a file name is resolved against it (RFC 3986 §5.2.3).
        mirrors = options.Mirrors.Select(m => m.AbsolutePath.EndsWith('/') ? m : new Uri(m.AbsoluteUri + "/")).ToArray();
        // Lower-cased like HashOf's output, so a hash published in upper case still matches.
        sha256 = options.Sha256.Select(p => KeyValuePair.Create(p.Key, p.Value.ToLowerInvariant())).ToArray();
        maxBytes = options.MaxBytes;
    }

    /// <summary>Downloads every file of <see cref="MnistDownloadOptions.Sha256"/> into <paramref name="directory"/>.</summary>
    /// <param name="directory">The target folder (created if needed).</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <returns>The paths of the verified files.</returns>
    /// <exception cref="InvalidDataException">No mirror served a file with the expected hash (every attempt is listed).</exception>
    public async Task<IReadOnlyList<string>> DownloadAsync(string directory, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(directory);
        var paths = new List<string>();
        foreach (var (name, sha) in sha256)
        {
            string target = Path.Combine(directory, name);
            if (File.Exists(target) && HashOf(await File.ReadAllBytesAsync(target, cancellationToken)) == sha)
            {
                paths.Add(target);
                continue;
            }
            var failures = new List<string>();
            bool done = false;
            foreach (var mirror in mirrors)
            {
                var uri = new Uri(mirror, name);
                try
                {
                    byte[] bytes = await FetchAsync(uri, cancellationToken);
                    string found = HashOf(bytes);
                    if (found != sha)
                    {
                        failures.Add($"{uri}: expected SHA-256 {sha}, found {found}");
                        continue;
                    }
                    AtomicFile.WriteAllBytes(target, bytes);
                    paths.Add(target);
                    done = true;
                    break;
                }
                catch (HttpRequestException e)
                {
                    failures.Add($"{uri}: {e.Message}");
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    // HttpClient's own timeout (not the caller's cancellation): try the next mirror.
                    failures.Add($"{uri}: timed out ({e.Message})");
                }
                catch (IOException e)
                {
                    // The connection broke while the body was read.
                    failures.Add($"{uri}: {e.Message}");
                }
                catch (InvalidDataException e)
                {
                    failures.Add($"{uri}: {e.Message}");
                }
            }
            if (!done)
                throw new InvalidDataException($"Could not download {name}: " + string.Join("; ", failures));
        }
        return paths;
    }

    private async Task<byte[]> FetchAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        if (response.Content.Headers.ContentLength is > 0 and var length && length > maxBytes)
            throw new InvalidDataException($"expected at most {maxBytes} bytes, server announces {length}");
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > maxBytes)
                throw new InvalidDataException($"expected at most {maxBytes} bytes, received more");
        }
        return buffer.ToArray();
    }

    private static string HashOf(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
