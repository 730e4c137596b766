using Hearth.Authorization.Requests;
using Hearth.Authorization.Writes;

namespace Hearth.Authorization.Tests.Writes;

/// <summary>What a conditional interaction becomes, from the matches the token may see (hidden ones never reach this).</summary>
public class ConditionalWritesTests
{
    private static FhirRequest Conditional(FhirInteraction interaction) => new(interaction, "Observation", null) { Conditional = true };

    private static string Plain(ConditionalResolution resolution)
        => resolution.Refusal is { } refusal
            ? refusal.Status + " " + refusal.IssueCode
            : string.Join(",", resolution.Plain.Select(p => p.Interaction + (p.Id is null ? "" : " " + p.Id))) + (resolution.Existing is null ? "" : " existing " + resolution.Existing);

    [Theory]
    [InlineData(FhirInteraction.Create, "", null, "Create")]
    [InlineData(FhirInteraction.Create, "o1", null, "Create existing o1")]
    [InlineData(FhirInteraction.Create, "o1,o2", null, "412 multiple-matches")]
    [InlineData(FhirInteraction.Update, "", null, "Create")]
    [InlineData(FhirInteraction.Update, "", "o9", "400 invalid")]
    [InlineData(FhirInteraction.Update, "o1", null, "Update o1")]
    [InlineData(FhirInteraction.Update, "o1", "o1", "Update o1")]
    [InlineData(FhirInteraction.Update, "o1", "o2", "400 invalid")]
    [InlineData(FhirInteraction.Update, "o1,o2", null, "412 multiple-matches")]
    [InlineData(FhirInteraction.Patch, "", null, "404 not-found")]
    [InlineData(FhirInteraction.Patch, "o1", null, "Patch o1")]
    [InlineData(FhirInteraction.Patch, "o1,o2", null, "412 multiple-matches")]
    [InlineData(FhirInteraction.Delete, "", null, "")]
    [InlineData(FhirInteraction.Delete, "o1", null, "Delete o1")]
    [InlineData(FhirInteraction.Delete, "o1,o2,o3", null, "Delete o1,Delete o2,Delete o3")]
    public void Resolve_ByTheVisibleMatches(FhirInteraction interaction, string visible, string? bodyId, string expected)
        => Assert.Equal(expected, Plain(ConditionalWrites.Resolve(Conditional(interaction), visible.Split(',', StringSplitOptions.RemoveEmptyEntries), bodyId)));

    [Fact]
    public void Delete_OfMoreThanTheBound_412_AndNoFewerLookedFor()
    {
        var ids = Enumerable.Range(0, ConditionalWrites.MaxDeletes + 1).Select(i => "o" + i).ToList();
        Assert.Equal("412 too-costly", Plain(ConditionalWrites.Resolve(Conditional(FhirInteraction.Delete), ids, null)));
        Assert.Equal(ConditionalWrites.MaxDeletes, ConditionalWrites.Resolve(Conditional(FhirInteraction.Delete), ids[..^1], null).Plain.Count);
        Assert.Equal(ConditionalWrites.MaxDeletes + 1, ConditionalWrites.Enough(Conditional(FhirInteraction.Delete)));
        Assert.Equal(2, ConditionalWrites.Enough(Conditional(FhirInteraction.Update)));
    }
}
