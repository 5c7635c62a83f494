package demo

import (
	"fmt"
	"time"
)

// user and group mirror KooDrive's JSON: the fields of its pages' examples, including
// those its tables omit (orgId, deptId, deptName).
type user struct {
	ID       string `json:"id"`
	OrgID    string `json:"orgId"`
	UserID   string `json:"userId"`
	DeptID   string `json:"deptId"`
	DeptName string `json:"deptName"`
	Mobile   string `json:"mobile"`
	Name     string `json:"name"`
	Role     int    `json:"role"`
	Status   int    `json:"status"`
}

type group struct {
	ID          string `json:"id"`
	GroupName   string `json:"groupName"`
	OwnerID     string `json:"ownerId"`
	CreatedTime string `json:"createdTime"`
	UpdatedTime string `json:"updatedTime"`
	sourceType  int
	members     map[string]bool // userIds that join the group
}

var (
	firstNames = []string{"Sam", "Avery", "Lin", "Priya", "Mateo", "Chen", "Olga", "Kwame", "Sofia", "Hiro", "Amara", "Jonas", "Mei", "Luca", "Nadia", "Ravi"}
	lastNames  = []string{"Tan", "Okafor", "Müller", "Silva", "Nakamura", "Haddad", "Kowalski", "Singh", "Moreau", "Lindqvist"}
	depts      = []string{"Engineering", "Finance", "Design", "Sales", "Legal", "Operations"}
	teamWords  = []string{"Platform", "Payroll", "Brand", "EMEA Sales", "Contracts", "Onboarding", "Mobile", "Audit", "Research", "Support", "Data", "Security"}
	kindWords  = []string{"Team", "Review", "Project", "Committee", "Guild", "Drive"}
	epoch      = time.Date(2024, 1, 8, 1, 30, 0, 0, time.UTC)
)

// seed builds a deterministic organisation: users, and groups owned by them. The first
// user (the demo caller) joins every group; the others join a share of them.
func seed(nUsers, nGroups int) ([]user, []group) {
	users := make([]user, nUsers)
	for i := range users {
		d := i % len(depts)
		users[i] = user{
			ID:       fmt.Sprintf("13160837323770%05d", 70977+i*131),
			OrgID:    "9190086000001210958",
			UserID:   fmt.Sprintf("10086000002932%05d", 2821+i*97),
			DeptID:   fmt.Sprintf("124369314165610%04d", 7521+d),
			DeptName: depts[d],
			Mobile:   fmt.Sprintf("0086181****%04d", 1000+(i*7919)%9000),
			Name:     firstNames[i%len(firstNames)] + " " + lastNames[(i/2)%len(lastNames)],
			Role:     i % 3,
			Status:   boolInt(i%11 == 10),
		}
	}
	groups := make([]group, nGroups)
	for i := range groups {
		created := epoch.Add(time.Duration(i*37) * time.Hour).Add(time.Duration(i*613) * time.Millisecond)
		g := group{
			ID:          fmt.Sprintf("14072375513618%05d", 47809+i*17),
			GroupName:   fmt.Sprintf("%s %s %d", teamWords[i%len(teamWords)], kindWords[(i/3)%len(kindWords)], i+1),
			OwnerID:     users[(i*7)%nUsers].UserID,
			CreatedTime: created.Format(timeLayout),
			UpdatedTime: created.Add(time.Duration(i%50) * 24 * time.Hour).Format(timeLayout),
			sourceType:  boolInt(i%4 != 0), // a quarter are plain groups (0), the rest user groups (1)
			members:     map[string]bool{},
		}
		for k, u := range users {
			if k == 0 || i%(k+1) == 0 {
				g.members[u.UserID] = true
			}
		}
		groups[i] = g
	}
	return users, groups
}

const timeLayout = "2006-01-02T15:04:05.000Z"

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
