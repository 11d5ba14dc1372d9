using AiPrompts.Core.Errors;
using AiPrompts.Core.Keys;
using AiPrompts.Core.Users;

namespace AiPrompts.Tests.Keys;

/// <summary>Resolution over every combination of its inputs (3 roles × 2^10 flags), checked against the rules of §D.</summary>
public sealed class KeyResolutionTests
{
    public static IEnumerable<ResolutionInput> AllInputs()
    {
        foreach (var role in Roles.All)
        {
            for (var bits = 0; bits < 1 << 10; bits++)
            {
                bool Bit(int i) => (bits & (1 << i)) != 0;
                yield return new ResolutionInput(role, Bit(0), Bit(1), Bit(2), Bit(3), Bit(4), Bit(5), Bit(6), Bit(7), Bit(8), Bit(9));
            }
        }
    }

    [Fact]
    public void Every_combination_follows_the_rules()
    {
        var count = 0;
        foreach (var input in AllInputs())
        {
            count++;
            var outcome = KeyResolution.Resolve(input);
            Assert.True(outcome.Allowed ^ (outcome.Refusal is not null), $"exactly one of source or refusal: {input}");
            var usable = input.ProviderEnabled && input.ModelExists && input.ModelEnabled && input.ModelHasCapability;
            if (!usable)
            {
                // Nothing about keys matters when the provider or model cannot serve the request.
                var expected = !input.ProviderEnabled ? ErrorCode.ProviderDisabled
                    : !input.ModelExists || !input.ModelEnabled ? ErrorCode.ModelUnavailable
                    : ErrorCode.ModelLacksCapability;
                Assert.Equal(expected, outcome.Refusal);
                continue;
            }
            if (!input.ProviderNeedsKey)
            {
                Assert.Equal(KeySource.None, outcome.Source);
                continue;
            }
            var roleMayShare = input.CallerRole == Roles.SuperAdmin
                || (input.CallerRole == Roles.Admin && input.SharedAllowAdmins)
                || (input.CallerRole == Roles.User && input.SharedAllowUsers);
            var sharedUsable = input.HasSharedKey && input.SharedKeyEnabled;
            if (input.HasPersonalKey)
            {
                Assert.Equal(KeySource.Personal, outcome.Source); // the personal key always comes first
            }
            else if (sharedUsable && roleMayShare)
            {
                Assert.Equal(KeySource.Shared, outcome.Source);
            }
            else if (sharedUsable)
            {
                Assert.Equal(ErrorCode.SharedKeyNotAllowed, outcome.Refusal);
            }
            else
            {
                Assert.Equal(ErrorCode.KeyMissing, outcome.Refusal);
            }
            // Whatever else holds, a role the policy excludes never gets the shared key.
            if (!roleMayShare)
            {
                Assert.NotEqual(KeySource.Shared, outcome.Source);
            }
        }
        Assert.Equal(3 * 1024, count);
    }

    [Theory]
    [InlineData(Roles.Admin, false, false, false)]
    [InlineData(Roles.Admin, true, false, true)]
    [InlineData(Roles.User, true, false, false)]
    [InlineData(Roles.User, false, true, true)]
    [InlineData(Roles.SuperAdmin, false, false, true)]
    [InlineData("auditor", true, true, false)]
    public void The_shared_key_policy_is_per_role(string role, bool allowAdmins, bool allowUsers, bool expected) =>
        Assert.Equal(expected, KeyResolution.MayUseShared(role, allowAdmins, allowUsers));
}
