using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Dls.Models.Mnist;

namespace Dls.Models.Tests.Mnist;

/// <summary>The downloader against a loopback HTTP server; never touches the network.</summary>
public sealed class MnistDownloaderTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("dls-dl-").FullName;
    private readonly HttpListener listener = new();
    private readonly string prefix;
    private readonly Dictionary<string, byte[]> served = [];
    private int requests;

    public MnistDownloaderTests()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        prefix = $"http://127.0.0.1:{port}/";
        listener.Prefixes.Add(prefix);
        listener.Start();
        _ = Task.Run(ServeAsync);
    }

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            Interlocked.Increment(ref requests);
            _ = Task.Run(() => RespondAsync(context));   // one request at a time would let a slow one hold up the rest
        }
    }

    private async Task RespondAsync(HttpListenerContext context)
    {
        try
        {
            string path = context.Request.Url!.AbsolutePath;
            if (path.StartsWith("/slow/", StringComparison.Ordinal))
                await Task.Delay(30_000);                 // a mirror that does not answer within the client's timeout
            if (served.TryGetValue(path, out var body))
            {
                context.Response.StatusCode = 200;
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body);
            }
            else
            {
                context.Response.StatusCode = 404;
            }
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
            // The client gave up (timeout) or the listener stopped.
        }
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        Directory.Delete(dir, recursive: true);
    }

    private static string Sha(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    [Fact]
    public async Task DownloadAsync_FirstMirrorMissing_FallsBackAndVerifies()
    {
        byte[] images = IdxFixtures.Gzip(IdxFixtures.Images(2, 2, 2));
        byte[] labels = IdxFixtures.Gzip(IdxFixtures.Labels(3, 4));
        served["/good/a.gz"] = images;
        served["/good/b.gz"] = labels;
        var options = new MnistDownloadOptions
        {
            Mirrors = [new Uri(prefix + "missing/"), new Uri(prefix + "good/")],
            Sha256 = new Dictionary<string, string> { ["a.gz"] = Sha(images), ["b.gz"] = Sha(labels) },
        };
        using var http = new HttpClient();
        var paths = await new MnistDownloader(http, options).DownloadAsync(dir);
        Assert.Equal(images, File.ReadAllBytes(paths[0]));
        Assert.Equal(labels, File.ReadAllBytes(paths[1]));

        int before = requests;
        await new MnistDownloader(http, options).DownloadAsync(dir); // verified files are not fetched again
        Assert.Equal(before, requests);
    }

    [Fact]
    public async Task DownloadAsync_FirstMirrorTimesOut_FallsBackToTheNext()
    {
        byte[] labels = IdxFixtures.Gzip(IdxFixtures.Labels(3, 4));
        served["/slow/b.gz"] = labels;
        served["/good/b.gz"] = labels;
        var options = new MnistDownloadOptions
        {
            Mirrors = [new Uri(prefix + "slow/"), new Uri(prefix + "good/")],
            Sha256 = new Dictionary<string, string> { ["b.gz"] = Sha(labels) },
        };
        // 2 s: the good mirror answers in milliseconds, but a loaded CI machine running tests in parallel once took more
        // than 300 ms; the slow one never answers within 30 s.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };

        var paths = await new MnistDownloader(http, options).DownloadAsync(dir);

        Assert.Equal(labels, File.ReadAllBytes(Assert.Single(paths)));
    }

    [Fact]
    public async Task DownloadAsync_WrongHash_ThrowsWithExpectedAndFound_LeavesNoFile()
    {
        byte[] body = [1, 2, 3];
        served["/m/a.gz"] = body;
        string expected = new('0', 64);
        var options = new MnistDownloadOptions { Mirrors = [new Uri(prefix + "m/")], Sha256 = new Dictionary<string, string> { ["a.gz"] = expected } };
        using var http = new HttpClient();
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => new MnistDownloader(http, options).DownloadAsync(dir));
        Assert.Contains($"expected SHA-256 {expected}, found {Sha(body)}", e.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void CanonicalHashes_CoverTheFourStandardFiles()
    {
        Assert.Equal(MnistIdx.StandardFileNames.Select(n => n + ".gz").Order(), MnistDownloadOptions.CanonicalSha256.Keys.Order());
        Assert.All(MnistDownloadOptions.CanonicalSha256.Values, h => Assert.Matches("^[0-9a-f]{64}$", h));
    }

    [Fact]
    public async Task DownloadAsync_MirrorWithoutTrailingSlash_KeepsItsLastSegment()
    {
        byte[] labels = IdxFixtures.Gzip(IdxFixtures.Labels(3, 4));
        served["/datasets/mnist/b.gz"] = labels;
        var options = new MnistDownloadOptions
        {
            Mirrors = [new Uri(prefix + "datasets/mnist")],
            Sha256 = new Dictionary<string, string> { ["b.gz"] = Sha(labels) },
        };
        using var http = new HttpClient();

        var paths = await new MnistDownloader(http, options).DownloadAsync(dir);

        Assert.Equal(labels, File.ReadAllBytes(Assert.Single(paths)));
    }

    [Fact]
    public async Task DownloadAsync_UpperCaseSha256_Matches()
    {
        byte[] labels = IdxFixtures.Gzip(IdxFixtures.Labels(3, 4));
        served["/m/b.gz"] = labels;
        var options = new MnistDownloadOptions
        {
            Mirrors = [new Uri(prefix + "m/")],
            Sha256 = new Dictionary<string, string> { ["b.gz"] = Sha(labels).ToUpperInvariant() },
        };
        using var http = new HttpClient();

        var paths = await new MnistDownloader(http, options).DownloadAsync(dir);

        Assert.Equal(labels, File.ReadAllBytes(Assert.Single(paths)));
        int before = requests;
        await new MnistDownloader(http, options).DownloadAsync(dir); // the file on disk matches the upper-case hash too
        Assert.Equal(before, requests);
    }

    [Fact]
    public void Constructor_NullListsAndZeroMaxBytes_ThrowsListingEveryOption()
    {
        using var http = new HttpClient();
        var options = new MnistDownloadOptions { Mirrors = null!, Sha256 = null!, MaxBytes = 0 };

        var e = Assert.Throws<ArgumentException>(() => new MnistDownloader(http, options));

        Assert.Equal("options", e.ParamName);
        Assert.Contains("Mirrors must not be null", e.Message);
        Assert.Contains("Sha256 must not be null", e.Message);
        Assert.Contains("MaxBytes must be positive, got 0", e.Message);
    }

    [Fact]
    public void Constructor_RelativeMirrorAndMalformedHash_ThrowsNamingEntries()
    {
        using var http = new HttpClient();
        var options = new MnistDownloadOptions
        {
            Mirrors = [new Uri(prefix + "m/"), new Uri("mnist/", UriKind.Relative)],
            Sha256 = new Dictionary<string, string> { ["a.gz"] = "abc", ["b.gz"] = new('0', 64) },
        };

        var e = Assert.Throws<ArgumentException>(() => new MnistDownloader(http, options));

        Assert.Contains("Mirrors[1] must be an absolute http or https URI, got 'mnist/'", e.Message);
        Assert.Contains("Sha256['a.gz'] must be 64 hexadecimal digits, got 'abc'", e.Message);
        Assert.DoesNotContain("b.gz", e.Message);
    }

    [Fact]
    public void Validate_Defaults_NoProblems()
    {
        Assert.Empty(new MnistDownloadOptions().Validate());
    }
}
